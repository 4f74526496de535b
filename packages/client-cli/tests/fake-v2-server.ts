import net, { type AddressInfo, type Socket } from 'node:net';
import {
  ClientMessageDecoder,
  V2_MAGIC,
  encodeErrorMessage,
  encodeFrameMessage,
  encodeWelcome,
  type ClientMessage,
  type CommandChar,
  type ErrorBody,
  type Hello,
  type Welcome,
} from '@edgecam/protocol';

/**
 * A small v2-only server for the client's tests, built on @edgecam/protocol's codecs: WELCOME
 * after HELLO (or ERROR UNAUTHORIZED for a wrong token), `0` one FRAME, `3` FRAMEs at `fps` with
 * increasing sequence numbers, `q` stop, `2` end. A connection that does not open with the magic
 * is closed, as a strict v2 server would.
 */
export interface FakeV2Server {
  readonly port: number;
  readonly hellos: Hello[];
  readonly commands: CommandChar[];
  /** Connections that did not start with the v2 magic. */
  nonV2Connections(): number;
  framesSent(): number;
  close(): Promise<void>;
}

export interface FakeV2Options {
  frames: Buffer[];
  fps?: number;
  token?: string;
  /** Leave this many sequence numbers out after every sent frame (the client counts them as dropped). */
  seqGap?: number;
  /** Fields to put in the WELCOME instead of the defaults. */
  welcome?: Partial<Welcome>;
  /** Answer the first command with this ERROR and close, instead of acting on it. */
  errorOnCommand?: ErrorBody;
  /** A multi-camera server: WELCOME names the chosen camera and lists these (default first); an unknown name gets ERROR UNKNOWN_CAMERA. */
  cameras?: string[];
}

export async function startFakeV2Server(opts: FakeV2Options): Promise<FakeV2Server> {
  const period = 1000 / (opts.fps ?? 30);
  const hellos: Hello[] = [];
  const commands: CommandChar[] = [];
  const sockets = new Set<Socket>();
  let nonV2 = 0;
  let sent = 0;

  const serve = (socket: Socket) => {
    let seq = 0;
    let frameIndex = 0;
    let timer: NodeJS.Timeout | undefined;
    let magic = Buffer.alloc(0);
    let welcomed = false;
    const decoder = new ClientMessageDecoder();

    const sendFrame = () => {
      const jpeg = opts.frames[frameIndex++ % opts.frames.length]!;
      const [head, body] = encodeFrameMessage(seq, Date.now() * 1000, jpeg);
      seq += 1 + (opts.seqGap ?? 0);
      socket.cork();
      socket.write(head);
      socket.write(body);
      socket.uncork();
      sent++;
    };
    const stop = () => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    };
    const onMessage = (m: ClientMessage) => {
      if (m.type === 'hello') {
        hellos.push(m.hello);
        if (opts.token !== undefined && m.hello.token !== opts.token) {
          socket.end(encodeErrorMessage({ code: 'UNAUTHORIZED', message: 'token missing or wrong' }));
          return;
        }
        const cameras = opts.cameras;
        const camera = m.hello.camera ?? cameras?.[0];
        if (cameras !== undefined && !cameras.includes(camera ?? '')) {
          socket.end(encodeErrorMessage({ code: 'UNKNOWN_CAMERA', message: `no camera ${JSON.stringify(camera)}; this server has: ${cameras.join(', ')}` }));
          return;
        }
        welcomed = true;
        socket.write(
          encodeWelcome({
            server: 'fake-v2',
            version: '0.0.0',
            width: 160,
            height: 120,
            fps: opts.fps ?? 30,
            authRequired: opts.token !== undefined,
            ...(cameras !== undefined ? { camera, cameras } : {}),
            ...opts.welcome,
          }),
        );
        return;
      }
      if (m.type !== 'command' || !welcomed) return;
      commands.push(m.command);
      if (opts.errorOnCommand !== undefined) {
        socket.end(encodeErrorMessage(opts.errorOnCommand));
        return;
      }
      if (m.command === '0' && timer === undefined) sendFrame();
      else if (m.command === '3' && timer === undefined) timer = setInterval(sendFrame, period);
      else if (m.command === 'q') stop();
      else if (m.command === '2') socket.end();
    };

    socket.on('data', (chunk: Buffer) => {
      let rest = chunk;
      if (magic.length < V2_MAGIC.length) {
        const need = V2_MAGIC.length - magic.length;
        magic = Buffer.concat([magic, chunk.subarray(0, need)]);
        rest = chunk.subarray(need);
        if (!V2_MAGIC.subarray(0, magic.length).equals(magic)) {
          nonV2++;
          socket.destroy();
          return;
        }
      }
      try {
        decoder.push(rest, onMessage);
      } catch {
        socket.destroy();
      }
    });
    socket.on('close', () => {
      stop();
      sockets.delete(socket);
    });
    socket.on('error', () => undefined);
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    serve(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    hellos,
    commands,
    nonV2Connections: () => nonV2,
    framesSent: () => sent,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
