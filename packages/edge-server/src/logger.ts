// pino everywhere: JSON lines for machines, pino-pretty when a person watches a terminal.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './config.js';

export function createLogger(level: LogLevel, opts: { pretty?: boolean } = {}): Logger {
  const usePretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (!usePretty) return pino({ level, base: { name: 'edgecam-server' } });
  // Synchronous so the last lines before exit (shutdown, ffmpeg stopped) are never lost.
  return pino(
    { level },
    pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }),
  );
}
