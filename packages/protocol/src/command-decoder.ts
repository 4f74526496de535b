import type { CommandChar } from './constants.js';
import { asBuffer } from './bytes.js';

export type CommandEvent = { kind: 'command'; command: CommandChar } | { kind: 'unknown'; byte: number };

// One entry per byte value: 0 = unknown, 1 = whitespace (skipped), 2 = command.
const UNKNOWN = 0;
const SPACE = 1;
const COMMAND = 2;
const CLASS = new Uint8Array(256);
for (const c of ' \t\r\n') CLASS[c.charCodeAt(0)] = SPACE;
for (const c of '0123q') CLASS[c.charCodeAt(0)] = COMMAND;

// Events are immutable, so one object per command is shared instead of allocating per byte.
const COMMAND_EVENTS: Readonly<Record<number, CommandEvent>> = Object.fromEntries(
  (['0', '1', '2', '3', 'q'] as const).map((c) => [c.charCodeAt(0), Object.freeze({ kind: 'command', command: c })]),
);

/**
 * v1 decoder for what clients send: every byte is one command, whatever the chunking (`130q2`
 * glued in one packet is five commands). Space, tab, CR and LF are skipped because people type
 * `3⏎` into netcat. Any other byte is reported as `unknown` and decoding simply goes on: commands
 * are one byte each, so there is no framing to lose, and the decoder is never fatal and keeps no
 * state between chunks.
 */
export class CommandDecoder {
  /** Always 0: a command is complete in one byte. Present for symmetry with the other decoders. */
  readonly bufferedBytes = 0;

  push(chunk: Uint8Array, onEvent: (e: CommandEvent) => void): void {
    const buf = asBuffer(chunk);
    for (let i = 0; i < buf.length; i++) {
      const byte = buf[i]!;
      const cls = CLASS[byte];
      if (cls === COMMAND) onEvent(COMMAND_EVENTS[byte]!);
      else if (cls === UNKNOWN) onEvent({ kind: 'unknown', byte });
    }
  }

  /** Nothing to forget; present so every decoder can be reset the same way. */
  reset(): void {}
}
