// Text a peer sent (a client name, a user agent, a camera name asked for, a path, a camera's
// status line), as our logs, messages and /status show it: cut short, saying how long it was, with
// control characters visible. Every such field goes through here, so a line a peer causes costs
// about the same whatever it sends (a 4000-character client name would make it 4 KB).

/** At most this many characters of a peer's text are shown (an escape counts as its length). */
export const SHOWN_CHARS = 64;

// C0 and C1 controls, DEL, and the Unicode separators and direction overrides that can split or
// reorder a log line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The text with control characters as `\xNN` or `\uNNNN`, cut to `max` characters shown. */
export function peerText(text: string, max = SHOWN_CHARS): string {
  const { body, whole } = escapeAndCut(text, max, (c) => CONTROL.test(c), (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
  return whole ? body : `${body}${cutMarker(text)}`;
}

/** The text in double quotes as JSON writes it (other controls as `\uNNNN`), cut to SHOWN_CHARS shown. */
export function showPeerText(text: string): string {
  const { body, whole } = escapeAndCut(text, SHOWN_CHARS, (c) => c === '"' || c === '\\' || CONTROL.test(c), (c) =>
    c === '"' || c === '\\' || c < ' ' ? JSON.stringify(c).slice(1, -1) : `\\u${hex(c.charCodeAt(0), 4)}`,
  );
  // The marker follows the closing quote: the quotes hold only what the peer sent.
  return whole ? `"${body}"` : `"${body}"${cutMarker(text)}`;
}

/** What ends a text that was cut: an ellipsis and the length the peer sent. */
function cutMarker(text: string): string {
  return `…(${text.length} chars)`;
}

/** The text escaped, as much of it as fits in `max` characters once escaped; whole: nothing was cut. */
function escapeAndCut(text: string, max: number, needsEscape: (c: string) => boolean, escape: (c: string) => string): { body: string; whole: boolean } {
  let body = '';
  // By code point, so a cut never splits a surrogate pair.
  for (const c of text) {
    const e = needsEscape(c) ? escape(c) : c;
    if (body.length + e.length > max) return { body, whole: false };
    body += e;
  }
  return { body, whole: true };
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}
