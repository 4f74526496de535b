import type { Logger } from 'pino';
import type { ConnectOptions } from './connection.js';
import type { GlobalOptions } from './options.js';

/** The connection settings the global flags describe. */
export function connectOptions(g: GlobalOptions, log: Logger): ConnectOptions {
  return { host: g.host, port: g.port, protocol: g.protocol, timeoutMs: g.timeoutMs, token: g.token, tls: g.tls, camera: g.camera, logger: log };
}
