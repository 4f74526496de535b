// A pino logger that keeps its lines in memory, so tests can check what the server logs.
import { pino, type Logger } from 'pino';

export interface MemoryLogger {
  logger: Logger;
  lines: Record<string, unknown>[];
}

export function memoryLogger(level: pino.LevelWithSilent = 'debug'): MemoryLogger {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}
