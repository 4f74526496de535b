// One accepted TCP connection. Its first bytes say legacy or v2 (protocol-detection.ts), and the
// rest goes to that protocol's side (legacy-connection.ts, v2-connection.ts); this file keeps what
// both share: the socket's lifecycle, its reading, the client's session, the HELLO deadline and
// the listener's idle and stall checks. The socket's bytes are one stream: detection reads its
// head, then the rest flows through the protocol's decoder, and a ProtocolError arrives as that
// stream's error. The server never writes anything but whole frames (legacy) or whole messages (v2).
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Observable, startWith, type Observer, type Subscription } from 'rxjs';
import { ProtocolError, encodeErrorMessage, type ErrorBody } from '@edgecam/protocol';
import type { ClientProtocol } from '../contracts.js';
import { formatPeerAddress } from '../log/peer-address.js';
import { ClientSession, type FrameEncoder } from './client-session.js';
import { ControlBudget } from './control-budget.js';
import { startLegacy } from './legacy-connection.js';
import { detectClient } from './protocol-detection.js';
import { SocketTransport } from './socket-transport.js';
import type { ConnectionLink, ConnectionOptions, ServedCamera } from './types.js';
import { V2Connection } from './v2-connection.js';
import { fromReadable } from '@edgecam/runtime/rx';

// How long a closing connection may take to flush before it is destroyed.
const CLOSE_GRACE_MS = 2000;

/** One accepted TCP connection, from protocol detection to close. */
export class TcpConnection implements ConnectionLink {
  readonly options: ConnectionOptions;
  readonly socket: Socket;
  readonly transport: SocketTransport;
  readonly budget: ControlBudget;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  private logger: Logger;
  private ending = false;
  private head: Buffer = Buffer.alloc(0);
  private protocol: ClientProtocol | null = null;
  private session: ClientSession | null = null;
  private v2: V2Connection | null = null;
  private readonly bytes$: Observable<Buffer>;
  /** The socket's bytes: read by detect() first, then by the protocol's decoder. */
  private input: Subscription | null = null;
  private helloTimer: NodeJS.Timeout | null = null;
  private handleId = 0;
  private lastInputAt = performance.now();

  constructor(o: ConnectionOptions) {
    this.options = o;
    this.socket = o.socket;
    this.logger = o.logger.child({ peer: formatPeerAddress(o.socket) });
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 30_000);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    // ECONNRESET, EPIPE and writes after the peer vanished land here; 'close' follows and ends the session.
    this.socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    this.socket.once('close', () => this.onClose());
    this.transport = new SocketTransport(this.socket);
    this.budget = new ControlBudget(o.limits, {
      pause: () => this.socket.pause(),
      resume: () => {
        if (!this.ending) this.socket.resume();
      },
    });
    this.bytes$ = fromReadable(this.socket);
    this.input = this.bytes$.subscribe(this.reader((chunk) => this.detect(chunk)));
    this.log.debug('connected');
  }

  get log(): Logger {
    return this.logger;
  }

  get closing(): boolean {
    return this.ending;
  }

  /** Bytes queued for this client in user space (the frame in flight, control messages). */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /** The registry id once the session is open. */
  get clientId(): number | undefined {
    return this.session ? this.handleId : undefined;
  }

  /**
   * How long this connection has been silent while owed nothing: not yet identified, or a session
   * (legacy, or v2 after HELLO) that is neither streaming nor waiting for a single frame. 0 when
   * it is not idle. A v2 client before HELLO is the hello timeout's.
   */
  idleSince(now: number): number {
    if (this.ending) return 0;
    const idle = this.protocol === null ? this.head.length === 0 : this.session?.mode === 'idle';
    return idle ? now - this.lastInputAt : 0;
  }

  /** Closes an idle connection (see idleSince); a v2 client is told why. */
  closeIdle(timeoutMs: number): void {
    this.log.info({ idleTimeoutMs: timeoutMs, identified: this.protocol !== null }, 'connection idle too long; closing');
    if (this.protocol === 'v2') {
      this.fail({ code: 'IDLE_TIMEOUT', message: `nothing streamed, asked for or sent for ${timeoutMs / 1000} s` });
      return;
    }
    this.close();
  }

  /** How long the frame in flight has waited for the socket to take it; 0 when none waits. */
  stalledSince(now: number): number {
    return this.ending ? 0 : this.transport.stalledSince(now);
  }

  /** Closes a client whose socket takes nothing (see stalledSince): nothing could reach it, so no ERROR. */
  closeStalled(timeoutMs: number): void {
    this.log.warn({ stallTimeoutMs: timeoutMs, queued: this.socket.writableLength }, 'client takes no data; closing');
    this.destroy();
  }

  /** Closes at once, nothing flushed (a silent connection evicted under a flood, a refused or flooding client). */
  destroy(): void {
    this.ending = true;
    this.stopReading();
    this.session?.close();
    this.clearHelloTimer();
    this.socket.destroy();
  }

  /** Ends the connection politely: queued bytes are flushed, then it is destroyed if the peer stalls. */
  close(): void {
    if (this.ending) return;
    this.ending = true;
    this.stopReading();
    this.session?.close();
    this.clearHelloTimer();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** v2 only: an ERROR message, then close. */
  fail(error: ErrorBody): void {
    if (this.ending) return;
    this.socket.write(encodeErrorMessage(error));
    this.close();
  }

  admit(protocol: ClientProtocol): boolean {
    const max = this.options.maxClients;
    return max <= 0 || this.options.registry.count(protocol) < max;
  }

  openSession(protocol: ClientProtocol, encode: FrameEncoder, camera: ServedCamera): ClientSession {
    const handle = this.options.registry.register({ protocol, address: formatPeerAddress(this.socket), camera: camera.name });
    this.handleId = handle.id;
    this.logger = this.logger.child({ client: handle.id, protocol, camera: camera.name });
    this.session = new ClientSession({
      hub: camera.hub,
      handle,
      transport: this.transport,
      encode,
      logger: this.logger,
      statsIntervalMs: this.options.statsIntervalMs,
      onBye: () => this.close(),
    });
    this.log.info('client connected');
    return this.session;
  }

  readOn<T>(
    rest: Buffer,
    decode: (bytes$: Observable<Buffer>) => Observable<T>,
    handle: (item: T) => void,
    onProtocolError?: (err: ProtocolError) => void,
  ): void {
    this.stopReading();
    const bytes$ = rest.length > 0 ? this.bytes$.pipe(startWith(rest)) : this.bytes$;
    this.input = decode(bytes$).subscribe(this.reader(handle, onProtocolError));
  }

  startHelloTimer(): void {
    if (this.helloTimer) return;
    this.helloTimer = setTimeout(() => {
      this.helloTimer = null;
      if (this.ending) return;
      this.log.warn({ helloTimeoutMs: this.options.helloTimeoutMs }, 'no HELLO in time; closing');
      if (this.protocol === 'v2') this.fail({ code: 'HELLO_TIMEOUT', message: `no HELLO within ${this.options.helloTimeoutMs} ms` });
      // Still inside the magic: not a v2 client yet, so no message it could parse.
      else this.destroy();
    }, this.options.helloTimeoutMs);
    this.helloTimer.unref();
  }

  clearHelloTimer(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  /**
   * What reads the input: `next` for each item, a ProtocolError to the protocol's side. Errors
   * thrown by our own handling are caught here, since RxJS would not route them to `error`.
   */
  private reader<T>(next: (item: T) => void, onProtocolError?: (err: ProtocolError) => void): Partial<Observer<T>> {
    return {
      next: (item) => {
        if (this.ending) return;
        this.lastInputAt = performance.now();
        try {
          next(item);
        } catch (err) {
          this.onUnexpectedError(err);
        }
      },
      error: (err: unknown) => {
        if (err instanceof ProtocolError) onProtocolError?.(err);
        // Otherwise a socket error: its listener logged it and 'close' follows.
      },
    };
  }

  private stopReading(): void {
    this.input?.unsubscribe();
    this.input = null;
  }

  private detect(chunk: Buffer): void {
    if (this.head.length === 0) this.options.onFirstByte?.();
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    const detected = detectClient(this.head);
    if (detected.kind === 'more') {
      // A v2 client has started its magic: from here the HELLO deadline runs.
      this.startHelloTimer();
      return;
    }
    if (detected.kind === 'unsupported') {
      this.protocol = 'v2';
      this.fail(detected.error);
      return;
    }
    this.head = Buffer.alloc(0);
    this.protocol = detected.kind;
    if (detected.kind === 'legacy') startLegacy(this, detected.rest);
    else this.v2 = new V2Connection(this, detected.rest);
  }

  private onUnexpectedError(err: unknown): void {
    this.log.error({ err }, 'unexpected error handling client input; closing');
    this.destroy();
  }

  private onClose(): void {
    this.stopReading();
    this.v2?.closed();
    this.clearHelloTimer();
    this.session?.close();
    // A connection that never became a client (a port scan, a flood) is not worth an info line.
    if (!this.session) {
      this.log.debug('disconnected before a session opened');
      return;
    }
    this.log.info({ framesSent: this.session.counters.framesSent, dropped: this.session.counters.dropped }, 'client disconnected');
  }
}
