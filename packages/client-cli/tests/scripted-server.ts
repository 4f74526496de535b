import net, { type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP server whose every connection is handed to `script`: the misbehaving peers of the error
 * tests (silent, talking text, announcing huge frames, cutting a frame) are a few lines each.
 */
export interface ScriptedServer {
  readonly port: number;
  /** Connections accepted so far. */
  accepted(): number;
  /** Bytes received from clients, per connection, in order. */
  readonly received: Buffer[][];
  close(): Promise<void>;
}

export async function startScriptedServer(script: (socket: Socket, index: number) => void): Promise<ScriptedServer> {
  const sockets = new Set<Socket>();
  const received: Buffer[][] = [];
  const server = net.createServer((socket) => {
    const index = received.length;
    const mine: Buffer[] = [];
    received.push(mine);
    sockets.add(socket);
    socket.on('data', (d: Buffer) => mine.push(Buffer.from(d)));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    script(socket, index);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => received.length,
    received,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A port nothing listens on: bound, then released. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
