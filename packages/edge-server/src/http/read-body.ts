// The one way a request body is read: whole, up to a cap, and always settled. A peer that goes
// away mid-body, stalls until the request timeout or sends a broken chunked encoding makes the
// request emit 'error' or 'aborted' or just 'close'; each of those resolves, never rejects, so a
// route cannot leave a rejected promise behind (that ended the process once).
import type { IncomingMessage } from 'node:http';

/** What reading a body gave: the bytes, or why there are none. */
export type BodyResult =
  | { readonly ok: true; readonly body: Buffer }
  /** `too-large`: more than the cap (the rest is not read); `aborted`: the peer broke off or failed. */
  | { readonly ok: false; readonly reason: 'too-large' | 'aborted' };

/** Reads `req`'s body, at most `limit` bytes; past the cap the request is left unread and destroyed. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        settle({ ok: false, reason: 'too-large' });
        // Stop reading: the answer says so, and the socket closes after it (Connection: close).
        req.pause();
        return;
      }
      parts.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => settle({ ok: true, body: Buffer.concat(parts) }));
    // After settling, later errors of this request have nobody to tell: a listener keeps them from
    // becoming an uncaught 'error' event.
    req.on('error', () => settle({ ok: false, reason: 'aborted' }));
    req.once('aborted', () => settle({ ok: false, reason: 'aborted' }));
    req.once('close', () => settle({ ok: false, reason: 'aborted' }));
  });
}
