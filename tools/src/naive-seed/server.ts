// The seed's server design in Node: one client at a time, per-client flags for single / confirm /
// streaming / shutdown, commands read as `recv(1024).decode().strip()` (so glued commands are
// misread), "Unknown command" written into the frame stream, and each frame sent as two blocking
// sendall() calls (the length, then the JPEG) before the next camera read. Kept deliberately
// naive: it is what the benchmarks compare edgecam-server against.
//
// Two departures, both in the seed's favour: the send loop waits for a command instead of
// spinning a core while idle, and the next client is served after the current one leaves
// (the seed's shared flags let a second client break the first).
import { createServer, type Server, type Socket } from 'node:net';

export interface NaiveSeedServerOptions {
  host?: string;
  /** 0 (the default) for an ephemeral port. */
  port?: number;
  /** `cap.read()`: resolves with the next camera frame when it is due. */
  read: () => Buffer | Promise<Buffer>;
}

export interface NaiveSeedServer {
  readonly port: number;
  /** Frames written so far, over every client. */
  readonly framesSent: number;
  /** Clients whose session has begun (the others wait for their turn). */
  readonly clientsServed: number;
  close(): Promise<void>;
}

function sendAll(socket: Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve())));
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

export async function startNaiveSeedServer(o: NaiveSeedServerOptions): Promise<NaiveSeedServer> {
  const waiting: Socket[] = [];
  const sockets = new Set<Socket>();
  let busy = false;
  let closed = false;
  let framesSent = 0;
  let clientsServed = 0;

  /** One client's session, as the seed's two threads run it. */
  async function serve(socket: Socket): Promise<void> {
    clientsServed++;
    const flags = { start: false, confirm: false, streaming: false, shutdown: false };
    let wake: (() => void) | null = null;
    const signal = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const waitForSignal = () => new Promise<void>((resolve) => (wake = resolve));
    socket.on('data', (data: Buffer) => {
      const command = data.toString().trim();
      if (command === '0') {
        if (!flags.streaming) flags.start = true;
      } else if (command === '1') flags.confirm = true;
      else if (command === '2') flags.shutdown = true;
      else if (command === '3') flags.streaming = true;
      else if (command === 'q') flags.streaming = false;
      else socket.write('Unknown command');
      signal();
    });
    const end = () => {
      flags.shutdown = true;
      signal();
    };
    socket.on('close', end);
    socket.on('error', end);
    socket.resume();
    try {
      while (!flags.shutdown && !closed) {
        if (!flags.start && !flags.streaming) {
          await waitForSignal();
          continue;
        }
        const jpeg = await o.read();
        const header = Buffer.alloc(4);
        header.writeUInt32BE(jpeg.length, 0);
        await sendAll(socket, header);
        await sendAll(socket, jpeg);
        framesSent++;
        if (!flags.streaming) {
          while (!flags.confirm && !flags.shutdown && !closed) await waitForSignal();
          flags.confirm = false;
          flags.start = false;
        }
      }
    } catch {
      // The client went away mid-frame; the seed printed the error and moved on.
    } finally {
      socket.destroy();
    }
  }

  function next(): void {
    if (busy || closed) return;
    const socket = waiting.shift();
    if (!socket) return;
    busy = true;
    void serve(socket).finally(() => {
      busy = false;
      next();
    });
  }

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // Waiting clients are not read (the seed never accepted them either); their bytes stay queued.
    socket.pause();
    waiting.push(socket);
    next();
  });
  const port = await listen(server, o.port ?? 0, o.host ?? '127.0.0.1');

  return {
    port,
    get framesSent() {
      return framesSent;
    },
    get clientsServed() {
      return clientsServed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
