import type { Socket } from 'node:net';
import { EmptyError, Observable, Subject, firstValueFrom, throwError, timeout } from 'rxjs';
import { pino, type Logger } from 'pino';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_LENGTH,
  FrameDecoder,
  MessageType,
  ProtocolError,
  ServerMessageDecoder,
  encodeCommandMessage,
  encodeCommands,
  type CapturedFrame,
  type CommandChar,
  type ErrorBody,
  type ServerMessage,
  type Welcome,
  nowUs,
} from '@edgecam/protocol';
import { CliError, ExitCode, errorText } from './errors.js';
import type { ProtocolChoice, TlsOptions } from './options.js';
import { ItemPeek, PEEK_BYTES, looksLikeText, quoteText } from './peer-text.js';
import { CLIENT_NAME, encodeSafeHello } from './safe-hello.js';
import { formatAddress, formatSeconds, openSocket } from './socket-open.js';

export type WireProtocol = 'legacy' | 'v2';

export interface ConnectOptions {
  host: string;
  port: number;
  protocol: ProtocolChoice;
  /** Limit for connecting and for the v2 handshake when the protocol is forced to v2. */
  timeoutMs: number;
  token?: string | undefined;
  /** Connect over TLS (both the v2 attempt and legacy); undefined for plain TCP. */
  tls?: TlsOptions | undefined;
  /** `auto`: how long to wait for a WELCOME before trying legacy (default 1 s). */
  negotiateMs?: number;
  /** Largest frame accepted; a header claiming more ends the connection before anything is buffered. */
  maxFrameBytes?: number;
  /**
   * Legacy: least time between two commands. The seed server reads commands with recv(1024), so
   * two commands that reach it together (`13`) are one unknown command to it.
   */
  legacyCommandGapMs?: number;
  logger?: Logger;
}

export interface ServerConnection {
  readonly protocol: WireProtocol;
  /** The server's WELCOME (v2 only). */
  readonly welcome: Welcome | undefined;
  /** `host:port` as given. */
  readonly address: string;
  /**
   * Every frame the server sends, as it arrives (hot: frames nobody listens for are dropped).
   * Errors with a CliError when the connection fails; completes when close() is called.
   */
  readonly frames$: Observable<CapturedFrame>;
  /** Why the connection ended, once it failed (undefined while it works or after close()). */
  readonly failure: CliError | undefined;
  /** Sends one command (a byte in legacy, a COMMAND message in v2), in order. */
  command(c: CommandChar): Promise<void>;
  /** Ends the connection politely (FIN, never the `2` that stops a seed server); waits up to `graceMs` (1 s) for the server's close. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_NEGOTIATE_MS = 1000;
export const DEFAULT_LEGACY_COMMAND_GAP_MS = 100;

const silentLogger = pino({ level: 'silent' });

/**
 * Connects and settles the protocol. `auto` sends the v2 opening; anything but a WELCOME within
 * `negotiateMs` (text such as `Unknown command`, a close, silence) makes it reconnect and speak
 * legacy on a fresh socket, so the seed server never sees a command after our opening bytes.
 */
export async function connect(opts: ConnectOptions): Promise<ServerConnection> {
  const log = opts.logger ?? silentLogger;
  const address = formatAddress(opts.host, opts.port);
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const gapMs = opts.legacyCommandGapMs ?? DEFAULT_LEGACY_COMMAND_GAP_MS;

  const legacy = async () => {
    if (opts.token !== undefined) log.warn('the legacy protocol has no authentication: the token is not sent');
    const socket = await openSocket(opts.host, opts.port, opts.timeoutMs, opts.tls);
    log.debug({ address, tls: opts.tls !== undefined }, 'connected (legacy)');
    return new Connection(socket, address, new LegacyReader(maxFrameBytes, opts.tls !== undefined), undefined, gapMs, log);
  };

  if (opts.protocol === 'legacy') return legacy();

  const strict = opts.protocol === 'v2';
  // auto: at most half of --timeout goes on waiting for a WELCOME, so a legacy server that
  // answers with silence still has the other half to send its frame.
  const waitMs = strict ? opts.timeoutMs : Math.min(opts.negotiateMs ?? DEFAULT_NEGOTIATE_MS, opts.timeoutMs / 2);
  const socket = await openSocket(opts.host, opts.port, opts.timeoutMs, opts.tls);
  const hello = { client: CLIENT_NAME, ...(opts.token !== undefined ? { token: opts.token } : {}) };
  const result = await negotiateV2(socket, encodeSafeHello(hello), waitMs, strict, maxFrameBytes, {
    tokenSent: opts.token !== undefined,
    tls: opts.tls !== undefined,
  });
  if (result.kind === 'v2') {
    log.debug({ address, welcome: result.welcome }, 'connected (v2)');
    const conn = new Connection(socket, address, result.reader, result.welcome, gapMs, log);
    conn.replay(result.early);
    return conn;
  }
  socket.destroy();
  if (result.reason === CLOSED_SILENTLY && opts.tls === undefined) {
    // The seed server answers our opening with text; a TLS server waiting for a handshake hangs
    // up without a word, and then leaves the legacy attempt hanging: say so now, not after the timeout.
    log.warn({ address }, 'the server closed the connection without a word; trying the legacy protocol (if the server uses TLS, add --tls or --fingerprint)');
  }
  log.info({ address, reason: result.reason }, 'no v2 WELCOME; reconnecting with the legacy protocol');
  return legacy();
}

/**
 * The first frame from now on, or a CliError: timeout, closed, or whatever broke the connection.
 * `waitMs` is what is left of the `--timeout` (`timeoutMs`, which the error names) when part of
 * it went on connecting.
 */
export async function nextFrame(conn: ServerConnection, timeoutMs: number, waitMs = timeoutMs): Promise<CapturedFrame> {
  try {
    return await firstValueFrom(conn.frames$.pipe(frameTimeout(timeoutMs, waitMs)));
  } catch (err) {
    if (err instanceof EmptyError) throw new CliError(ExitCode.CONNECTION, 'the connection was closed before a frame arrived');
    throw err;
  }
}

/**
 * rxjs `timeout` for a frame stream: each frame must follow the previous within `ms` (the
 * `--timeout`, which the error names); the first must come within `firstMs`, what is left of it.
 */
export function frameTimeout(ms: number, firstMs = ms) {
  return timeout<CapturedFrame, Observable<never>>({ first: firstMs, each: ms, with: () => throwError(() => noFrameError(ms)) });
}

/**
 * One `--timeout` shared by several waits (connecting, then the first frame): returns what is
 * left of `timeoutMs` since this call, at least 1 ms, at each call.
 */
export function timeBudget(timeoutMs: number): () => number {
  const started = performance.now();
  return () => Math.max(1, timeoutMs - (performance.now() - started));
}

export function noFrameError(ms: number): CliError {
  return new CliError(ExitCode.CONNECTION, `no frame arrived within ${formatSeconds(ms)} (see --timeout)`);
}

/**
 * A v2 ERROR: before the WELCOME it turns us away, after it it ends the session. UNAUTHORIZED
 * gets its own sentence, which says what to do about the token.
 */
export function serverError(e: ErrorBody, beforeWelcome: boolean, tokenSent?: boolean): CliError {
  if (e.code === 'UNAUTHORIZED') {
    if (/too many wrong tokens/.test(e.message)) {
      return new CliError(ExitCode.CONNECTION, `the server refused the connection: ${e.message} (UNAUTHORIZED)`);
    }
    return new CliError(
      ExitCode.CONNECTION,
      tokenSent
        ? `the server refused our token: ${e.message} (UNAUTHORIZED); check --token or EDGECAM_TOKEN`
        : `the server requires a token: ${e.message} (UNAUTHORIZED); pass it with --token or EDGECAM_TOKEN`,
    );
  }
  const what = beforeWelcome ? 'the server refused the connection' : 'the server ended the session';
  return new CliError(ExitCode.CONNECTION, `${what}: ${e.message} (${e.code})`);
}

/** Turns decoded bytes into frames; throws CliError when the bytes break the protocol. */
interface FrameReader {
  push(chunk: Buffer, emit: (f: CapturedFrame) => void): void;
  /** The error for a connection that ended now (mid-frame or between frames). */
  endError(): CliError;
}

/** A close this soon after the first command, before any byte, reads as a refusal. */
const REFUSAL_WINDOW_MS = 2000;

/** Legacy frames carry no metadata: number them locally and stamp them on arrival. */
class LegacyReader implements FrameReader {
  private readonly decoder: FrameDecoder;
  private readonly peek = new ItemPeek();
  private seq = 0;

  private received = 0;
  private firstCommandAt: number | undefined;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly overTls = false,
  ) {
    this.decoder = new FrameDecoder({ maxFrameBytes });
  }

  commandSent(at: number): void {
    this.firstCommandAt ??= at;
  }

  push(chunk: Buffer, emit: (f: CapturedFrame) => void): void {
    this.received += chunk.length;
    this.peek.chunk(chunk);
    try {
      this.decoder.push(chunk, (jpeg) => {
        this.peek.itemDone(FRAME_HEADER_LENGTH + jpeg.length);
        emit({ seq: this.seq++, captureTimeUs: nowUs(), jpeg });
      });
    } catch (err) {
      throw this.describe(err);
    }
    this.peek.settle();
  }

  private describe(err: unknown): CliError {
    if (err instanceof CliError) return err;
    const head = this.peek.current();
    if (looksLikeText(head)) {
      return new CliError(ExitCode.PROTOCOL, `the server sent text instead of a frame: ${quoteText(head)}`);
    }
    if (err instanceof ProtocolError && err.code === 'FRAME_TOO_LARGE' && head.length >= FRAME_HEADER_LENGTH) {
      const claimed = head.readUInt32BE(0);
      return new CliError(
        ExitCode.PROTOCOL,
        `the server announced a frame of ${claimed} bytes, over the limit of ${this.maxFrameBytes} bytes; refusing it`,
      );
    }
    return new CliError(ExitCode.PROTOCOL, `the server broke the legacy protocol: ${errorText(err)}`, { cause: err });
  }

  endError(): CliError {
    const partial = this.decoder.bufferedBytes;
    const sinceCommand = this.firstCommandAt === undefined ? Infinity : performance.now() - this.firstCommandAt;
    if (partial === 0 && this.received === 0 && sinceCommand < REFUSAL_WINDOW_MS) {
      // Closed at our first command without a byte: how a server that wants a token (or TLS)
      // turns a legacy client away, since the protocol has no way to say why.
      const tls = this.overTls ? '' : '; a server with TLS needs --tls (or --fingerprint, --ca)';
      return new CliError(
        ExitCode.CONNECTION,
        `the server closed the connection without sending anything (a server with a token refuses legacy clients unless started with --allow-legacy${tls})`,
      );
    }
    if (partial === 0) return new CliError(ExitCode.CONNECTION, 'the server closed the connection');
    const head = this.peek.current();
    if (looksLikeText(head)) {
      return new CliError(ExitCode.PROTOCOL, `the server sent text instead of a frame: ${quoteText(head)}`);
    }
    return new CliError(
      ExitCode.CONNECTION,
      `the connection was cut in the middle of a frame (${partial} bytes of it had arrived)`,
    );
  }
}

/** v2 frames come with the server's sequence number and capture time. */
class V2Reader implements FrameReader {
  constructor(readonly decoder: ServerMessageDecoder) {}

  push(chunk: Buffer, emit: (f: CapturedFrame) => void): void {
    try {
      this.decoder.push(chunk, (m) => this.handle(m, emit));
    } catch (err) {
      if (err instanceof CliError) throw err;
      const head = chunk.subarray(0, PEEK_BYTES);
      if (looksLikeText(head)) {
        throw new CliError(ExitCode.PROTOCOL, `the server sent text instead of a v2 message: ${quoteText(head)}`);
      }
      throw new CliError(ExitCode.PROTOCOL, `the server broke the v2 protocol: ${errorText(err)}`, { cause: err });
    }
  }

  handle(m: ServerMessage, emit: (f: CapturedFrame) => void): void {
    switch (m.type) {
      case 'frame':
        emit({ seq: m.seq, captureTimeUs: m.captureTimeUs, jpeg: m.jpeg });
        return;
      case 'error':
        throw serverError(m.error, false);
      case 'welcome':
      case 'pong':
        return;
    }
  }

  endError(): CliError {
    const partial = this.decoder.bufferedBytes;
    if (partial === 0) return new CliError(ExitCode.CONNECTION, 'the server closed the connection');
    return new CliError(
      ExitCode.CONNECTION,
      `the connection was cut in the middle of a message (${partial} bytes of it had arrived)`,
    );
  }
}

const CLOSED_SILENTLY = 'it closed the connection';

type Negotiated =
  | { kind: 'v2'; welcome: Welcome; reader: V2Reader; early: ServerMessage[] }
  | { kind: 'fallback'; reason: string };

/**
 * Sends the v2 opening and waits for the WELCOME. In auto mode (`strict` false) everything that
 * shows the server is not a v2 server resolves to a fallback; an ERROR from a v2 server (bad
 * token, too many clients) is final either way.
 */
function negotiateV2(
  socket: Socket,
  opening: Buffer,
  waitMs: number,
  strict: boolean,
  maxFrameBytes: number,
  how: { tokenSent: boolean; tls: boolean },
): Promise<Negotiated> {
  const hint = 'it may be a legacy server (try --protocol auto or --protocol legacy)';
  // A TLS server closes a plain connection (or says nothing) without a word of its own.
  const quietHint = how.tls ? hint : `${hint}, or one that needs TLS (--tls)`;
  return new Promise((resolve, reject) => {
    const decoder = new ServerMessageDecoder({ maxFrameBytes });
    const reader = new V2Reader(decoder);
    const early: ServerMessage[] = [];
    let welcome: Welcome | undefined;
    let first = true;
    let settled = false;

    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      socket.pause();
      fn();
    };
    const notV2 = (reason: string, err: CliError) => {
      if (strict) settle(() => reject(err));
      else settle(() => resolve({ kind: 'fallback', reason }));
    };

    const onData = (chunk: Buffer) => {
      if (first) {
        first = false;
        const type = chunk[0];
        if (type !== MessageType.WELCOME && type !== MessageType.ERROR) {
          const head = chunk.subarray(0, PEEK_BYTES);
          const what = looksLikeText(head)
            ? `text ${quoteText(head)}`
            : `bytes that are not a v2 message (first byte 0x${(type ?? 0).toString(16).padStart(2, '0')})`;
          notV2(
            `it answered ${what}`,
            new CliError(ExitCode.PROTOCOL, `the server answered ${what} instead of a v2 WELCOME; ${hint}`),
          );
          return;
        }
      }
      try {
        decoder.push(chunk, (m) => {
          if (welcome !== undefined) early.push(m);
          else if (m.type === 'welcome') welcome = m.welcome;
          else if (m.type === 'error') throw serverError(m.error, true, how.tokenSent);
          else throw new CliError(ExitCode.PROTOCOL, `the server sent a ${m.type} message before its WELCOME`);
        });
      } catch (err) {
        const e =
          err instanceof CliError
            ? err
            : new CliError(ExitCode.PROTOCOL, `the server broke the v2 protocol: ${errorText(err)}`, { cause: err });
        settle(() => reject(e));
        return;
      }
      if (welcome !== undefined) {
        const w = welcome;
        settle(() => resolve({ kind: 'v2', welcome: w, reader, early }));
      }
    };
    const onClose = () =>
      notV2(
        CLOSED_SILENTLY,
        new CliError(ExitCode.CONNECTION, `the server closed the connection before its v2 WELCOME; ${quietHint}`),
      );
    const onError = (err: NodeJS.ErrnoException) =>
      notV2(
        `the connection failed (${err.code ?? err.message})`,
        new CliError(ExitCode.CONNECTION, `the connection failed before the v2 WELCOME (${err.code ?? err.message}); ${quietHint}`),
      );
    const timer = setTimeout(
      () =>
        notV2(
          `it said nothing for ${formatSeconds(waitMs)}`,
          new CliError(ExitCode.CONNECTION, `no v2 WELCOME from the server within ${formatSeconds(waitMs)}; ${quietHint}`),
        ),
      waitMs,
    );

    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.write(opening);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

class Connection implements ServerConnection {
  readonly protocol: WireProtocol;
  readonly frames$: Observable<CapturedFrame>;
  private readonly subject = new Subject<CapturedFrame>();
  /** Set once we closed it or it failed: later events are ignored. */
  private ended = false;
  failure: CliError | undefined;
  private commands: Promise<void> = Promise.resolve();
  private lastCommandAt = Number.NEGATIVE_INFINITY;
  private readonly closed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    readonly address: string,
    private readonly reader: FrameReader,
    readonly welcome: Welcome | undefined,
    private readonly gapMs: number,
    private readonly log: Logger,
  ) {
    this.protocol = reader instanceof LegacyReader ? 'legacy' : 'v2';
    this.frames$ = this.subject.asObservable();
    this.closed = new Promise((r) => socket.once('close', () => r()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.fail(this.reader.endError()));
    socket.on('close', () => this.fail(this.reader.endError()));
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(this.socketError(err)));
    socket.resume();
  }

  /** Messages that arrived in the same chunk as the WELCOME. */
  replay(early: ServerMessage[]): void {
    if (!(this.reader instanceof V2Reader)) return;
    const reader = this.reader;
    try {
      for (const m of early) reader.handle(m, (f) => this.emit(f));
    } catch (err) {
      this.fail(err instanceof CliError ? err : new CliError(ExitCode.PROTOCOL, errorText(err)));
    }
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    try {
      this.reader.push(chunk, (f) => this.emit(f));
    } catch (err) {
      this.fail(err instanceof CliError ? err : new CliError(ExitCode.PROTOCOL, errorText(err), { cause: err }));
    }
  }

  private emit(f: CapturedFrame): void {
    if (!this.ended) this.subject.next(f);
  }

  private socketError(err: NodeJS.ErrnoException): CliError {
    const reason =
      err.code === 'ECONNRESET'
        ? 'the server reset the connection'
        : err.code === 'EPIPE'
          ? 'the server stopped reading'
          : (err.code ?? err.message);
    return new CliError(ExitCode.CONNECTION, `the connection to ${this.address} failed: ${reason}`, { cause: err });
  }

  private fail(err: CliError): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    this.log.debug({ err: err.message }, 'connection failed');
    this.socket.destroy();
    this.subject.error(err);
  }

  command(c: CommandChar): Promise<void> {
    const run = async () => {
      this.checkWritable();
      if (this.protocol === 'legacy') {
        const wait = this.lastCommandAt + this.gapMs - performance.now();
        if (wait > 0) await sleep(wait);
        this.checkWritable();
        this.socket.write(encodeCommands(c));
        this.lastCommandAt = performance.now();
        if (this.reader instanceof LegacyReader) this.reader.commandSent(this.lastCommandAt);
      } else {
        this.socket.write(encodeCommandMessage(c));
      }
      this.log.debug({ command: c }, 'command sent');
    };
    const p = this.commands.then(run);
    this.commands = p.catch(() => undefined);
    return p;
  }

  private checkWritable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.socket.destroyed || this.socket.writableEnded) {
      throw new CliError(ExitCode.CONNECTION, 'the connection is closed');
    }
  }

  /**
   * FIN, then up to `graceMs` for the server's own close, so that a server still sending reads
   * our last command before the socket goes away.
   */
  async close(graceMs = 1000): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.subject.complete();
      // Let queued commands (the final `q`) leave before the FIN.
      await this.commands;
      this.socket.end();
    }
    const timer = setTimeout(() => this.socket.destroy(), graceMs);
    await this.closed;
    clearTimeout(timer);
  }
}
