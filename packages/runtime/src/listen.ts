// Opens a server's port (HTTP, or TCP and TLS: every node server is a net.Server) and resolves
// with the port it got (the one asked for, or the free one port 0 picked); a listen error (port in
// use, foreign host) rejects, for listen-failure.ts to put in words.
import type { Server } from 'node:net';

/** Listens on host:port; resolves with the bound port once listening, rejects with the listen error. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
