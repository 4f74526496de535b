// The first bytes of a connection say which protocol its client speaks (detectProtocol): a legacy
// client starts with a command byte, a v2 client with the ECAM\x02 magic.
import { ProtocolError, V2_MAGIC, detectProtocol, type ErrorBody } from '@edgecam/protocol';

/** What a connection's head says: wait for more, a protocol and the bytes after its magic, or a v2-style client we do not speak. */
export type Detected = { kind: 'more' } | { kind: 'legacy' | 'v2'; rest: Buffer } | { kind: 'unsupported'; error: ErrorBody };

/** Reads the head of a connection (every byte received so far). */
export function detectClient(head: Buffer): Detected {
  let kind: 'legacy' | 'v2' | 'more';
  try {
    kind = detectProtocol(head);
  } catch (err) {
    // 'E' then not ECAM\x02. ECAM with another version byte is a v2-style client we do not
    // speak: it is told in its framing. Anything else is a legacy client typing unknown bytes.
    if (err instanceof ProtocolError && startsLikeV2(head)) {
      return { kind: 'unsupported', error: { code: err.code, message: `unsupported protocol version 0x${(head[4] ?? 0).toString(16)}; this server speaks ECAM\\x02` } };
    }
    kind = 'legacy';
  }
  if (kind === 'more') return { kind };
  return { kind, rest: kind === 'v2' ? head.subarray(V2_MAGIC.length) : head };
}

/** `ECAM` followed by some version byte: a v2-style client, even if not our version. */
function startsLikeV2(head: Uint8Array): boolean {
  return head.length >= 4 && Buffer.from(head.subarray(0, 4)).equals(V2_MAGIC.subarray(0, 4));
}
