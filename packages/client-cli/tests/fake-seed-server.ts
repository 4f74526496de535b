import net, { type AddressInfo, type Socket } from 'node:net';
import { sleep } from './wait-for.js';

/**
 * A stand-in for the seed's Python server, faithful in the ways that hurt clients:
 *
 * - One set of flags (single-frame request, ack, streaming, shutdown) shared by every connection,
 *   so one client's `3` streams to all of them and survives that client's departure.
 * - Each connection has a reader and a sender. The reader takes `recv(1024)`, decodes it as UTF-8
 *   (invalid UTF-8 kills the reader, which closes the socket) and strips whitespace; the whole
 *   chunk is one command, so glued commands (`13`) are unknown. Unknown input, empty input included,
 *   gets the raw text `Unknown command` on the frame socket.
 * - The sender sends a frame when a single frame is requested or streaming is on; after a single
 *   frame (when not streaming) it waits for the ack before it clears the request: the ack gate.
 * - Frames come from one camera read at its frame rate, shared by all senders.
 * - `2` sets the shared shutdown flag: every connection stops and the server accepts no more.
 *
 * One deliberate difference: a connection's sender stops when its socket closes (the seed's
 * thread spins on until shutdown), so tests do not leak timers.
 */
export interface FakeSeedServer {
  readonly port: number;
  /** Each recv() chunk after decode+strip, in arrival order, over all connections. */
  readonly commands: string[];
  /** Raw bytes of every chunk received, in order. */
  readonly chunks: Buffer[];
  readonly flags: SeedFlags;
  connections(): number;
  /** Frames sent over all connections. */
  framesSent(): number;
  /** performance.now() at each frame sent, over all connections. */
  readonly sentAt: number[];
  close(): Promise<void>;
}

export interface SeedFlags {
  start: boolean;
  confirm: boolean;
  streaming: boolean;
  shutdown: boolean;
}

export interface FakeSeedOptions {
  frames: Buffer[];
  /** Camera rate (default 30). */
  fps?: number;
}

const RECV_SIZE = 1024;

/** Python's str.strip() whitespace (ASCII part): space, \t \n \v \f \r and \x1c-\x1f. */
function pyStrip(s: string): string {
  return s.replace(/^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$/g, '');
}

export async function startFakeSeedServer(opts: FakeSeedOptions): Promise<FakeSeedServer> {
  const frames = opts.frames;
  const period = 1000 / (opts.fps ?? 30);
  const flags: SeedFlags = { start: false, confirm: false, streaming: false, shutdown: false };
  const commands: string[] = [];
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  let sent = 0;
  const sentAt: number[] = [];
  let frameIndex = 0;
  let nextReadAt = 0;
  // Wakes every waiting sender when a flag changes (the seed busy-polls its Events).
  let wake: Array<() => void> = [];
  const changed = () => {
    const w = wake;
    wake = [];
    for (const f of w) f();
  };
  const flagChange = () => new Promise<void>((r) => wake.push(r));

  /** cap.read(): blocks until the camera's next frame time. One camera for everyone. */
  const cameraRead = async (): Promise<Buffer> => {
    const now = performance.now();
    const at = Math.max(now, nextReadAt);
    nextReadAt = at + period;
    if (at > now) await sleep(at - now);
    return frames[frameIndex++ % frames.length]!;
  };

  const sendImage = (socket: Socket, jpeg: Buffer) => {
    if (socket.destroyed) return;
    const header = Buffer.alloc(4);
    header.writeUInt32BE(jpeg.length, 0);
    socket.write(header);
    socket.write(jpeg);
    sent++;
    sentAt.push(performance.now());
  };

  const sender = async (socket: Socket) => {
    const open = () => !flags.shutdown && !socket.destroyed;
    while (open()) {
      if (flags.start || flags.streaming) {
        const jpeg = await cameraRead();
        if (!open()) break;
        sendImage(socket, jpeg);
        if (!flags.streaming) {
          while (!flags.confirm && open()) await flagChange();
          flags.confirm = false;
          flags.start = false;
        }
      } else {
        await flagChange();
      }
    }
  };

  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const receive = (socket: Socket, data: Buffer) => {
    for (let off = 0; off < data.length && !socket.destroyed; off += RECV_SIZE) {
      const chunk = data.subarray(off, off + RECV_SIZE);
      chunks.push(Buffer.from(chunk));
      let text: string;
      try {
        text = utf8.decode(chunk);
      } catch {
        // The seed's reader thread dies on a UnicodeDecodeError; its `finally` closes the socket.
        socket.destroy();
        return;
      }
      const command = pyStrip(text);
      commands.push(command);
      if (command === '0') {
        if (!flags.streaming) flags.start = true;
      } else if (command === '1') {
        flags.confirm = true;
      } else if (command === '2') {
        flags.shutdown = true;
        for (const s of sockets) s.destroy();
        server.close();
      } else if (command === '3') {
        flags.streaming = true;
      } else if (command === 'q') {
        flags.streaming = false;
      } else {
        socket.write('Unknown command');
      }
      changed();
    }
  };

  const server = net.createServer((socket) => {
    if (flags.shutdown) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('data', (d: Buffer) => receive(socket, d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      changed();
    });
    // Like Python's socket, this one does not half-close: a FIN from the client ends it.
    void sender(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    commands,
    chunks,
    flags,
    connections: () => sockets.size,
    framesSent: () => sent,
    sentAt,
    close: async () => {
      flags.shutdown = true;
      changed();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
