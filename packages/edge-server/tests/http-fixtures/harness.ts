// Starts createHttpServer on 127.0.0.1 with an ephemeral port and stops it again.
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { createHttpServer, type HttpServerDeps } from '../../src/http/http-server.js';

export interface RunningHttpServer {
  server: Server;
  port: number;
  url: string;
  /** Server-side sockets, to watch how much a slow viewer's connection buffers. */
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** Silent unless EDGECAM_TEST_LOG=debug (or another level) is set. */
export const testLogger = pino({ level: process.env.EDGECAM_TEST_LOG ?? 'silent' });

export async function startHttpServer(deps: Omit<HttpServerDeps, 'logger'> & { logger?: HttpServerDeps['logger'] }): Promise<RunningHttpServer> {
  const http = createHttpServer({ logger: testLogger, ...deps });
  const { server } = http;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    sockets,
    // Anything still open after a grace period (a test's stalled client) is cut off.
    close: () => http.close(2_000),
  };
}
