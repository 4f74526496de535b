// The TCP listener: legacy and v2 clients on one port, each connection its own session.
import { createServer, type Server } from 'node:net';
import type { Logger } from 'pino';
import type { Welcome } from '@edgecam/protocol';
import type { ClientRegistry, FrameHub } from './contracts.js';
import { TcpConnection } from './tcp-connection.js';

export interface TcpServerOptions {
  hub: FrameHub;
  registry: ClientRegistry;
  logger: Logger;
  host: string;
  port: number;
  /** Per protocol (legacy, v2); 0 for no limit. */
  maxClients: number;
  helloTimeoutMs: number;
  welcome: () => Welcome;
  statsIntervalMs?: number;
}

export class EdgeTcpServer {
  private readonly o: TcpServerOptions;
  private readonly server: Server;
  private readonly connections = new Set<TcpConnection>();

  constructor(o: TcpServerOptions) {
    this.o = o;
    const log = o.logger.child({ component: 'tcp' });
    this.server = createServer((socket) => {
      const conn = new TcpConnection({
        socket,
        hub: o.hub,
        registry: o.registry,
        logger: log,
        helloTimeoutMs: o.helloTimeoutMs,
        maxClients: o.maxClients,
        welcome: o.welcome,
        statsIntervalMs: o.statsIntervalMs,
      });
      this.connections.add(conn);
      void conn.closed.then(() => this.connections.delete(conn));
    });
    this.server.on('error', (err) => log.error({ err: err.message }, 'tcp server error'));
  }

  /** Open connections, detected or not. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** What each open connection has queued in user space, by client id (0 before its session opens). */
  queuedBytes(): { clientId: number; bytes: number }[] {
    return [...this.connections].map((c) => ({ clientId: c.clientId ?? 0, bytes: c.queuedBytes }));
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.o.port, this.o.host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : this.o.port);
      });
    });
  }

  /** Stops accepting, closes every session, and resolves once every socket is closed. */
  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of this.connections) conn.close();
    await Promise.all([...this.connections].map((c) => c.closed));
    await stopped;
  }
}
