// Text a peer sent, as our logs and messages show it: quoted, cut short, control characters visible.

/** At most this many characters of a peer's text are shown. */
const SHOWN_CHARS = 64;

/** The text JSON-quoted (which escapes C0 controls), C1 controls and line separators escaped too, cut to SHOWN_CHARS. */
export function showPeerText(text: string): string {
  const cut = text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
  return JSON.stringify(cut).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
