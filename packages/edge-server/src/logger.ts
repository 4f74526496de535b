// pino everywhere: JSON lines for machines, pino-pretty when a person watches a terminal.
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

/** A pino logger at this level, pretty on a terminal unless told otherwise. */
export function createLogger(level: LogLevel, opts: { pretty?: boolean } = {}): Logger {
  const usePretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  // Synchronous writes in both cases: with pino's default asynchronous stream, the lines still
  // in flight at process.exit() land after the ones flushed by its exit hook, out of order.
  if (!usePretty) return pino({ level, base: { name: 'edgecam-server' } }, pino.destination({ dest: 1, sync: true }));
  // Loaded only for a terminal: pino-pretty and its dependencies are about 5 MB of a service's RSS.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty').PinoPretty;
  return pino(
    { level },
    pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }),
  );
}
