import type { Socket } from 'node:net';
import { Observable, Subject, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import { encodeCommandMessage, encodeCommands, type CapturedFrame, type CommandChar, type Welcome } from '@edgecam/protocol';
import { describeSystemError } from '@edgecam/runtime';
import { visibleText } from './peer-text.js';
import { CliError, ExitCode } from './errors.js';
import type { PROTOCOL_CHOICES } from './global-options.js';
import { fromReadable } from '@edgecam/runtime/rx';

/** The protocol a connection settled on. */
export type WireProtocol = 'legacy' | 'v2';

/** `auto` tries v2 and falls back to legacy; the others speak only that protocol (--protocol's values). */
export type ProtocolChoice = (typeof PROTOCOL_CHOICES)[number];

/** How to trust a TLS server; an empty object trusts the system's CAs. */
export interface TlsOptions {
  /** PEM certificates to trust instead of the system's CAs (--ca FILE). */
  ca?: string | undefined;
  /** SHA-256 of the server certificate, `AB:CD:…` (--fingerprint): trusted if it matches, whoever signed it. */
  fingerprint?: string | undefined;
}

/** Where and how connect() reaches a server. */
export interface ConnectOptions {
  host: string;
  port: number;
  protocol: ProtocolChoice;
  /** Limit for connecting and for the v2 handshake when the protocol is forced to v2. */
  timeoutMs: number;
  token?: string | undefined;
  /** The camera named in HELLO (v2 only); undefined: the server's default camera. */
  camera?: string | undefined;
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
  /**
   * After a silent hang-up on the v2 opening (what a TLS server does to a plain client), ask at
   * once whether the port speaks TLS, instead of after the first command met silence: for
   * commands that send no command soon (`cameras`, `shell`) or would otherwise start as if all were well (`view`).
   */
  checkTlsAtOnce?: boolean;
  logger?: Logger;
}

/** One connection to a server, whichever protocol it speaks. */
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
  /** The server's word that its camera is down (v2), until a frame arrives again. */
  readonly sourceDown: string | undefined;
  /** Sends one command (a byte in legacy, a COMMAND message in v2), in order. */
  command(c: CommandChar): Promise<void>;
  /** Stops reading the socket, so TCP backpressure reaches the server (which then drops at the source). */
  pause(): void;
  /** Reads the socket again after pause(). */
  resume(): void;
  /** Ends the connection politely (FIN, never the `2` that stops a seed server); waits up to `graceMs` (1 s) for the server's close. */
  close(graceMs?: number): Promise<void>;
}

/** `auto`: how long to wait for a WELCOME before trying legacy. */
export const DEFAULT_NEGOTIATE_MS = 1000;
/** Legacy: least time between two commands (see ConnectOptions.legacyCommandGapMs). */
export const DEFAULT_LEGACY_COMMAND_GAP_MS = 100;

/** The socket's bytes as a stream: completes at the server's FIN or close, errors with the socket's error. */
export function socketBytes(socket: Socket): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    const reading = fromReadable(socket).subscribe(subscriber);
    // A socket paused while the opening was read (wrong-port.ts) flows again.
    socket.resume();
    return reading;
  });
}

/**
 * A live connection: subscribes to the reader's frames (which end only in a CliError or a socket
 * error) and sends commands. The reader was built by connect() for the protocol it settled on.
 */
export class Connection implements ServerConnection {
  readonly frames$: Observable<CapturedFrame>;
  private readonly subject = new Subject<CapturedFrame>();
  /** Set once we closed it or it failed: later events are ignored. */
  private ended = false;
  failure: CliError | undefined;
  sourceDown: string | undefined;
  private commands: Promise<void> = Promise.resolve();
  private lastCommandAt = Number.NEGATIVE_INFINITY;
  /** When the first command left, for the legacy reader's refusal check. */
  firstCommandAt: number | undefined;
  private readonly closed: Promise<void>;
  private readonly sub: Subscription;

  constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly protocol: WireProtocol,
    readonly welcome: Welcome | undefined,
    frames: Observable<CapturedFrame>,
    private readonly gapMs: number,
    private readonly log: Logger,
  ) {
    this.frames$ = this.subject.asObservable();
    this.closed = new Promise((r) => socket.once('close', () => r()));
    // The reader lets go of the socket once it ends; an error after that must not crash us.
    socket.on('error', () => undefined);
    const source = welcome?.source;
    if (source && source.state !== 'running' && source.error !== undefined) this.sourceDown = visibleText(source.error);
    this.sub = frames.subscribe({
      next: (f) => {
        this.sourceDown = undefined;
        if (!this.ended) this.subject.next(f);
      },
      error: (err: unknown) => this.fail(err instanceof CliError ? err : this.socketError(err as NodeJS.ErrnoException)),
    });
  }

  /** The server said its camera is down (a non-fatal SOURCE_UNAVAILABLE): frames follow when it is back. */
  noteSourceDown(why: string): void {
    this.sourceDown = why;
    this.log.warn({ reason: why }, `the server's camera is down: ${why}; waiting for it to come back`);
  }

  /** Mid-session, a reset or a broken pipe is the server's doing: say so; else the shared reason. */
  private socketError(err: NodeJS.ErrnoException): CliError {
    const reason =
      err.code === 'ECONNRESET'
        ? 'the server reset the connection'
        : err.code === 'EPIPE'
          ? 'the server stopped reading'
          : describeSystemError(err);
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
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        this.checkWritable();
        this.socket.write(encodeCommands(c));
        this.lastCommandAt = performance.now();
        this.firstCommandAt ??= this.lastCommandAt;
      } else {
        this.socket.write(encodeCommandMessage(c));
      }
      this.log.debug({ command: c }, 'command sent');
    };
    const p = this.commands.then(run);
    this.commands = p.catch(() => undefined);
    return p;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.ended) this.socket.resume();
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
      // A paused socket would not read the server's FIN; what arrives now is dropped anyway.
      this.socket.resume();
      this.socket.end();
    }
    const timer = setTimeout(() => this.socket.destroy(), graceMs);
    await this.closed;
    clearTimeout(timer);
    this.sub.unsubscribe();
  }
}
