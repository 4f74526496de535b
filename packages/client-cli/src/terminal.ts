import { pino, type Logger } from 'pino';
import { terminalText } from './peer-text.js';

/**
 * Everything the CLI writes to the terminal goes through here, so that the live progress line
 * and log lines never overwrite each other: a log line first clears the live line, and the live
 * line is redrawn after it.
 */

let liveText: string | undefined;

function clearLive(): void {
  if (liveText !== undefined) process.stderr.write('\r\x1b[K');
}
function drawLive(): void {
  if (liveText !== undefined) process.stderr.write(liveText);
}

/** Shows (or replaces) the one live line on stderr. Only call it when stderr is a TTY. */
export function setLiveLine(text: string): void {
  clearLive();
  liveText = text;
  drawLive();
}

/** Removes the live line, leaving the cursor at the start of an empty line. */
export function clearLiveLine(): void {
  clearLive();
  liveText = undefined;
}

/** A line on stdout (results: file saved, summary, URL). */
export function printLine(text: string): void {
  clearLive();
  process.stdout.write(terminalText(text) + '\n');
  drawLive();
}

/** A line on stderr (errors and notes for people). */
export function printError(text: string): void {
  clearLive();
  process.stderr.write(terminalText(text) + '\n');
  drawLive();
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * pino on stderr. JSON lines when stderr is not a terminal (for log collectors); on a terminal, a
 * short `edgecam warn: message` line (the extra fields are for machines). Level from
 * EDGECAM_LOG_LEVEL, default `warn`, so a normal run prints results, not chatter.
 */
export function createLogger(level = process.env.EDGECAM_LOG_LEVEL ?? 'warn'): Logger {
  const tty = process.stderr.isTTY === true;
  const destination = {
    write(line: string) {
      clearLive();
      if (tty) {
        try {
          const rec = JSON.parse(line) as { level: number; msg?: string; reason?: string };
          const extra = rec.reason !== undefined ? ` (${rec.reason})` : '';
          process.stderr.write(terminalText(`edgecam ${LEVEL_NAMES[rec.level] ?? rec.level}: ${rec.msg ?? ''}${extra}`) + '\n');
        } catch {
          process.stderr.write(line);
        }
      } else {
        process.stderr.write(line);
      }
      drawLive();
    },
  };
  const valid = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  return pino({ level: valid.includes(level) ? level : 'warn', base: { name: 'edgecam' } }, destination);
}
