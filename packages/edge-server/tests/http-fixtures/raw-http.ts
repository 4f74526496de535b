// A byte-level HTTP/1.1 client for the stream tests: it keeps every byte the server sent, so a
// test can compare the body exactly, and a MultipartReader that parses parts the way a player
// does (by Content-Length when the part has one, by the boundary otherwise).
import { connect, type Socket } from 'node:net';

export interface ResponseHead {
  status: number;
  headers: Map<string, string>;
}

export class RawHttpClient {
  readonly socket: Socket;
  private received: Buffer = Buffer.alloc(0);
  private headEnd = -1;
  private parsedHead: ResponseHead | undefined;
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  /** Sends `GET path` (or another method) and returns once the connection is open. */
  static open(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<RawHttpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => {
        const lines = [`${opts.method ?? 'GET'} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
        for (const [k, v] of Object.entries(opts.headers ?? {})) lines.push(`${k}: ${v}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        resolve(new RawHttpClient(socket));
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when `ready()` holds, re-checked on every chunk; rejects after timeoutMs. */
  async until<T>(ready: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = ready();
      if (value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        const v = ready();
        if (v !== undefined && v !== false) return v;
        throw new Error(`timed out waiting for ${what} (received ${this.received.length} bytes, closed=${this.closed})`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  head(): Promise<ResponseHead> {
    return this.until(() => this.tryHead(), 10_000, 'the response head');
  }

  private tryHead(): ResponseHead | undefined {
    if (this.parsedHead) return this.parsedHead;
    const end = this.received.indexOf('\r\n\r\n');
    if (end === -1) return undefined;
    const [statusLine, ...lines] = this.received.subarray(0, end).toString('latin1').split('\r\n');
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    this.headEnd = end + 4;
    this.parsedHead = { status: Number(statusLine!.split(' ')[1]), headers };
    return this.parsedHead;
  }

  /** Every body byte received so far (the stream is sent without chunked framing). */
  body(): Buffer {
    if (!this.tryHead()) return Buffer.alloc(0);
    return this.received.subarray(this.headEnd);
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface Part {
  headers: Map<string, string>;
  body: Buffer;
}

/** Parses multipart/x-mixed-replace incrementally; throws on anything a strict player would reject. */
export class MultipartReader {
  private buf: Buffer = Buffer.alloc(0);
  private phase: 'preamble' | 'headers' | 'body' | 'ended' = 'preamble';
  private headers = new Map<string, string>();
  private readonly delimiter: Buffer;
  readonly parts: Part[] = [];
  /** Header blocks seen, including one whose body has not arrived yet. */
  headerBlocks = 0;
  ended = false;

  constructor(private readonly boundary: string) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.step()) {
      // each step consumes one preamble, header block or part
    }
  }

  private step(): boolean {
    const { buf } = this;
    if (this.phase === 'ended') return false;
    if (this.phase === 'preamble') {
      const first = Buffer.from(`--${this.boundary}\r\n`, 'latin1');
      if (buf.length < first.length) return false;
      if (!buf.subarray(0, first.length).equals(first)) {
        throw new Error(`body does not start with the boundary: ${JSON.stringify(buf.subarray(0, 60).toString('latin1'))}`);
      }
      this.consume(first.length);
      this.phase = 'headers';
      return true;
    }
    if (this.phase === 'headers') {
      if (buf.length >= 2 && buf[0] === 0x0d && buf[1] === 0x0a) {
        this.headers = new Map();
        this.consume(2);
      } else {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) {
          if (buf.length > 4096) throw new Error('part headers longer than 4 KiB');
          return false;
        }
        this.headers = new Map();
        for (const line of buf.subarray(0, end).toString('latin1').split('\r\n')) {
          const colon = line.indexOf(':');
          if (colon <= 0) throw new Error(`bad part header line ${JSON.stringify(line)}`);
          this.headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        }
        this.consume(end + 4);
      }
      this.headerBlocks += 1;
      this.phase = 'body';
      return true;
    }
    // body: by Content-Length when given (and then the delimiter must follow exactly), else by search
    const declared = this.headers.get('content-length');
    let bodyLength: number;
    if (declared !== undefined) {
      bodyLength = Number(declared);
      if (!Number.isInteger(bodyLength) || bodyLength < 0) throw new Error(`bad Content-Length ${declared}`);
      if (buf.length < bodyLength + this.delimiter.length + 2) return false;
      if (!buf.subarray(bodyLength, bodyLength + this.delimiter.length).equals(this.delimiter)) {
        throw new Error(`Content-Length ${bodyLength} is not followed by the boundary`);
      }
    } else {
      const at = buf.indexOf(this.delimiter);
      if (at === -1 || buf.length < at + this.delimiter.length + 2) return false;
      bodyLength = at;
    }
    const after = buf.subarray(bodyLength + this.delimiter.length, bodyLength + this.delimiter.length + 2).toString('latin1');
    const part = { headers: this.headers, body: Buffer.from(buf.subarray(0, bodyLength)) };
    this.consume(bodyLength + this.delimiter.length + 2);
    if (after === '--') {
      this.phase = 'ended';
      this.ended = true;
      if (part.body.length > 0) this.parts.push(part);
      return false;
    }
    if (after !== '\r\n') throw new Error(`boundary followed by ${JSON.stringify(after)}`);
    this.parts.push(part);
    this.phase = 'headers';
    return true;
  }

  private consume(n: number): void {
    this.buf = this.buf.subarray(n);
  }
}

/** A User-Agent string like Chromium's, which selects the 'headers-ahead' layout. */
export const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
/** What ffmpeg 4.x sends. */
export const FFMPEG_UA = 'Lavf/58.76.100';
