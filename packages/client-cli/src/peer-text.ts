/**
 * Seed-era servers answer what they do not understand with raw text (`Unknown command`) on the
 * frame socket. Read as a frame header, `Unkn` is a 1.4 GB length, so the decoder refuses it;
 * these helpers let the error say what really arrived instead of quoting an absurd length.
 */

/** How many bytes of a suspicious reply are worth quoting. */
export const PEEK_BYTES = 64;

export { looksLikeText } from '@edgecam/runtime';

/** A quoted excerpt of text bytes (control characters made visible), shortened with an ellipsis when long. */
export function quoteText(bytes: Uint8Array, max = 48): string {
  const text = Buffer.from(bytes.subarray(0, max)).toString('latin1').trim();
  return `"${visibleText(text).replace(/"/g, '\\"')}"` + (bytes.length > max ? '…' : '');
}

// C0 controls (ESC, BEL, CR, LF, ...), DEL, C1 controls (a lone 0x9B is a CSI to some terminals),
// and the Unicode line separators and direction overrides that can reorder or split a line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// Our own multi-line output keeps its newlines and tabs; everything else above is shown.
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeControl(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * A string from the peer (an ERROR message, a WELCOME field, a text reply) as one line that is
 * safe to show on a terminal or a page: every control character is written out (`\x1b`, `\n`),
 * so the peer can neither drive the terminal nor forge a line of ours.
 */
export function visibleText(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/**
 * A value as one line of JSON for stdout. JSON.stringify escapes C0 controls itself; the other
 * characters visibleText() writes out (DEL, C1, line separators, direction overrides) become
 * `\uXXXX` escapes here, so the line stays valid JSON and shows no peer control on a terminal.
 */
export function jsonText(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The server's name and version from its WELCOME, for a banner or a status line. */
export function serverName(w: { server: string; version: string }): string {
  return visibleText(`${w.server} ${w.version}`);
}

/**
 * The last line of defence, for everything written to the terminal: control characters other
 * than newline and tab are written out, whatever their source.
 */
export function terminalText(text: string): string {
  return text.replace(TERMINAL_CONTROL, escapeControl);
}

/**
 * Keeps the first bytes of the item (frame or message) the decoder is in the middle of, so that
 * when the decoder refuses a header we can show the bytes it refused. Costs at most PEEK_BYTES
 * of copying per chunk.
 */
export class ItemPeek {
  /** The first bytes of the current item, from chunks already settled. */
  private head: Buffer = Buffer.alloc(0);
  /** Absolute stream offset of the first byte of the current item. */
  private itemStart = 0;
  /** Absolute stream offset just past the last byte pushed. */
  private streamEnd = 0;
  /** The chunk being decoded, until settle(). */
  private pendingChunk: Uint8Array | null = null;
  private pendingChunkStart = 0;

  /** Call before handing a chunk to the decoder. */
  chunk(chunk: Uint8Array): void {
    this.pendingChunkStart = this.streamEnd;
    this.streamEnd += chunk.length;
    this.pendingChunk = chunk;
  }

  /** Call from the decoder's callback for each whole item of `size` bytes (header included). */
  itemDone(size: number): void {
    this.itemStart += size;
  }

  /** Call once the decoder is done with the chunk: keeps what the next item needs. */
  settle(): void {
    this.head = this.current();
    this.pendingChunk = null;
  }

  /** The first bytes (up to PEEK_BYTES) of the item being decoded right now. */
  current(): Buffer {
    const chunk = this.pendingChunk;
    if (chunk === null) return this.head;
    if (this.itemStart >= this.pendingChunkStart) {
      // The item starts inside this chunk.
      const from = this.itemStart - this.pendingChunkStart;
      return Buffer.from(chunk.subarray(from, from + PEEK_BYTES));
    }
    // The item began in an earlier chunk: add from this one until the peek is full.
    const room = PEEK_BYTES - this.head.length;
    if (room <= 0) return this.head;
    return Buffer.concat([this.head, chunk.subarray(0, room)]);
  }
}
