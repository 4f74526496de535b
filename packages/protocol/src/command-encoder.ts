import type { CommandChar } from './constants.js';
import { ProtocolError } from './errors.js';

const COMMAND_CHARS: ReadonlySet<string> = new Set(['0', '1', '2', '3', 'q']);

export function isCommandChar(c: string): c is CommandChar {
  return COMMAND_CHARS.has(c);
}

/**
 * v1: encodes commands (`'30'`, `'q'`, ...) as the bytes a seed server reads. Every character
 * must be a command: a stray byte would be misread by a legacy server, so it is refused here.
 */
export function encodeCommands(cmds: string): Buffer {
  for (let i = 0; i < cmds.length; i++) {
    const c = cmds[i]!;
    if (!isCommandChar(c)) {
      throw new ProtocolError(
        'BAD_PAYLOAD',
        `${JSON.stringify(c)} at index ${i} is not a command (expected one of 0 1 2 3 q)`,
        { fatal: false },
      );
    }
  }
  return Buffer.from(cmds, 'latin1');
}
