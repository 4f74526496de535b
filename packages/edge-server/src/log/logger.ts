// pino everywhere: JSON lines for machines, pino-pretty when a person watches a terminal.
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/config.js';

/** Options of createLogger. */
export interface LoggerOptions {
  /** pino-pretty; default: when standard output is a terminal. */
  pretty?: boolean;
  /** Values never to be written (the token): replaced by `***` wherever they appear in a line. */
  secrets?: readonly (string | null | undefined)[];
  /** Where JSON lines go; default standard output (tests give a stream of their own). */
  destination?: DestinationStream;
}

/** A pino logger at this level, pretty on a terminal unless told otherwise. */
export function createLogger(level: LogLevel, opts: LoggerOptions = {}): Logger {
  const usePretty = opts.pretty ?? (opts.destination === undefined && Boolean(process.stdout.isTTY));
  const hooks = { streamWrite: scrubber(opts.secrets ?? []) };
  // Synchronous writes in both cases: with pino's default asynchronous stream, the lines still
  // in flight at process.exit() land after the ones flushed by its exit hook, out of order.
  if (!usePretty) return pino({ level, hooks, base: { name: 'edgecam-server' } }, opts.destination ?? pino.destination({ dest: 1, sync: true }));
  // Loaded only for a terminal: pino-pretty and its dependencies are about 5 MB of a service's RSS.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty').PinoPretty;
  return pino(
    { level, hooks },
    pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: opts.destination }),
  );
}

// A JSON string value in a line (a key is a string followed by a colon).
const JSON_STRING = /"(?:[^"\\]|\\.)*"(\s*:)?/g;

/**
 * The last defence against a secret in the log, whatever carried it there (a URL, a peer's
 * message, an error): each JSON line has every string value holding a secret, as written or
 * percent-encoded, rewritten with the secret replaced by `***`. A line without one costs a search.
 */
export function scrubber(secrets: readonly (string | null | undefined)[]): (line: string) => string {
  const needles = [...new Set(secrets.flatMap((s) => (s ? [s, encodeURIComponent(s)] : [])))];
  if (needles.length === 0) return (line) => line;
  // As the secrets look inside a JSON string (a quote or backslash in one is escaped there).
  const inJson = needles.map((n) => JSON.stringify(n).slice(1, -1));
  return (line) => {
    if (!inJson.some((n) => line.includes(n))) return line;
    // Value by value, so the line stays JSON even if a secret matches part of an escape or a key.
    return line.replace(JSON_STRING, (literal, key: string | undefined) => {
      if (key !== undefined) return literal;
      let value = JSON.parse(literal) as string;
      for (const n of needles) value = value.replaceAll(n, '***');
      return JSON.stringify(value);
    });
  };
}
