import { V2_MAGIC } from './constants.js';
import { ProtocolError } from './errors.js';

/**
 * Server side: decides the protocol from the first bytes of a connection. Legacy clients start
 * with a command byte, never 'E', so one byte is enough to say 'legacy'. A v2 client starts with
 * the whole ECAM\x02 magic: 'more' while `head` is a prefix of it, 'v2' once it is complete (the
 * first v2 message starts at V2_MAGIC.length). Anything else that starts with 'E' is BAD_MAGIC.
 */
export function detectProtocol(head: Uint8Array): 'legacy' | 'v2' | 'more' {
  if (head.length === 0) return 'more';
  if (head[0] !== V2_MAGIC[0]) return 'legacy';
  const n = Math.min(head.length, V2_MAGIC.length);
  for (let i = 1; i < n; i++) {
    if (head[i] !== V2_MAGIC[i]) {
      throw new ProtocolError(
        'BAD_MAGIC',
        `connection starts with 'E' but byte ${i} is 0x${head[i]!.toString(16).padStart(2, '0')}, not the v2 magic ECAM\\x02`,
      );
    }
  }
  return head.length >= V2_MAGIC.length ? 'v2' : 'more';
}
