// One TCP connection: tells legacy from v2 by the first bytes, decodes what the client sends,
// and drives its ClientSession. The socket's bytes are one stream: detectProtocol reads its head,
// then the rest flows through decodeCommands() (legacy) or decodeClientMessages() (v2), and a
// ProtocolError arrives as that stream's error. The server never writes anything but whole frames
// (legacy) or whole messages (v2): an unknown legacy byte is skipped silently, a broken v2 peer
// gets an ERROR message and is closed. The one ERROR that keeps the connection open is
// SOURCE_UNAVAILABLE: a v2 client waiting for frames is told, once per loss, why none come.
// Control messages (PING, COMMAND, HELLO, legacy commands) spend a per-connection budget: over it
// they are dropped and the socket is paused until the budget refills, so TCP itself slows a
// flooder and it cannot take the event loop from other clients' frames.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { Observable, startWith, type Observer, type Subscription } from 'rxjs';
import {
  ProtocolError,
  V2_MAGIC,
  detectProtocol,
  encodeErrorMessage,
  encodeFrame,
  encodeFrameMessage,
  encodePong,
  encodeWelcome,
  type ClientMessage,
  type CommandEvent,
  type ErrorBody,
  type Welcome,
} from '@edgecam/protocol';
import { decodeClientMessages, decodeCommands } from '@edgecam/protocol/rx';
import type { AccessControl, AccessVerdict } from './access/access-control.js';
import { RateLimiter } from './access/rate-limiter.js';
import type { CameraEvent, ClientProtocol, ClientRegistry, FrameHub } from './contracts.js';
import { EventSender } from './events/event-sender.js';
import { peerText, showPeerText } from './peer-text.js';
import { formatPeerAddress } from './peer-address.js';
import { oncePerFrame } from './per-frame.js';
import { ClientSession, type FrameEncoder, type SessionTransport } from './session.js';
import type { TcpLimits } from './tcp-server.js';

/** Options of TcpConnection. */
export interface ConnectionOptions {
  socket: Socket;
  /** The cameras this port serves. */
  cameras: CameraChoice;
  registry: ClientRegistry;
  logger: Logger;
  /** v2 clients that send no HELLO within this time get HELLO_TIMEOUT and are closed. */
  helloTimeoutMs: number;
  /** Per protocol; 0 for no limit. */
  maxClients: number;
  /** WELCOME for a client of this camera. */
  welcome: (camera: ServedCamera) => Welcome;
  statsIntervalMs?: number;
  /** The first byte arrived: the connection is no longer pending. */
  onFirstByte?: () => void;
  /** Checks the token a v2 client presents in HELLO; with a token set, legacy clients are refused. */
  access?: AccessControl;
  /** With a token set, let legacy clients in all the same (they cannot present one). */
  allowLegacy?: boolean;
  limits: TcpLimits;
  /** A camera's events (HELLO's camera; undefined: the default), for v2 clients whose HELLO asks for them. */
  events?: (camera: string | undefined) => Observable<CameraEvent>;
}

// Encoded once per frame and shared by every client of the protocol (header buffers included).
const legacyEncoder: FrameEncoder = oncePerFrame((f) => encodeFrame(f.jpeg));
// FRAME carries a u32 sequence number: after 2^32 frames (4.5 years at 30 fps) it wraps.
const v2Encoder: FrameEncoder = oncePerFrame((f) => encodeFrameMessage(f.seq % 0x1_0000_0000, f.captureTimeUs, f.jpeg));

// Control messages (PONG) a client makes us queue while it does not read: beyond this much
// waiting in user space besides the frame in flight, it is flooding us and is dropped.
const CONTROL_BACKLOG_BYTES = 64 * 1024;
// The budget is one bucket per connection; RateLimiter keys it, and this is the only key.
const BUCKET = '';
// How long a closing connection may take to flush before it is destroyed.
const CLOSE_GRACE_MS = 2000;
// WELCOME and ERROR are JSON of at most 4096 bytes; a source's reason (an ffmpeg stderr line) is cut to fit.
const MAX_REASON_CHARS = 1000;

/** A source's failure reason, cut to fit a WELCOME or an ERROR. */
export function clipReason(reason: string): string {
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason;
}
// A legacy peer that has sent this many bytes that are no command is not a camera client (real
// clients send nothing but commands): it is closed rather than parsed forever.
export const MAX_UNKNOWN_BYTES = 1024;

/** `ECAM` followed by some version byte: a v2-style client, even if not our version. */
function startsLikeV2(head: Uint8Array): boolean {
  return head.length >= 4 && Buffer.from(head.subarray(0, 4)).equals(V2_MAGIC.subarray(0, 4));
}

/** The socket's bytes as a stream: 'data' chunks, complete on 'end', a socket error as its error. */
function socketBytes(socket: Socket): Observable<Buffer> {
  return new Observable<Buffer>((sub) => {
    const onData = (chunk: Buffer): void => sub.next(chunk);
    const onEnd = (): void => sub.complete();
    const onError = (err: Error): void => sub.error(err);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
    return () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
    };
  });
}

/** A camera as a TCP port serves it. */
export interface ServedCamera {
  readonly name: string;
  readonly hub: FrameHub;
  /** Why the source is lost, or null: current value on subscribe, then changes (SharedFrameHub.sourceLoss$). */
  readonly sourceLoss$?: Observable<string | null>;
}

/** The cameras one TCP port serves. */
export interface CameraChoice {
  /** The camera a client asks for; undefined (legacy, or a HELLO naming none): the port's default. */
  pick(name: string | undefined): ServedCamera | undefined;
  /** Every camera this port serves, the default first. */
  names(): string[];
}

/** One accepted TCP connection, from protocol detection to close. */
export class TcpConnection {
  private readonly o: ConnectionOptions;
  private readonly socket: Socket;
  private log: Logger;
  private head: Buffer = Buffer.alloc(0);
  private protocol: ClientProtocol | null = null;
  private session: ClientSession | null = null;
  private camera: ServedCamera | null = null;
  private readonly bytes$: Observable<Buffer>;
  /** The socket's bytes: read by detect() first, then by the protocol's decoder. */
  private input: Subscription | null = null;
  private helloTimer: NodeJS.Timeout | null = null;
  private greeted = false;
  private lastFrameBytes = 0;
  private handleId = 0;
  private closing = false;
  private lastInputAt = performance.now();
  /** v2: why the source is lost right now (null: it is not), and whether this client was told. */
  private sourceLost: string | null = null;
  private toldSourceLost = false;
  private lossWatch: Subscription | null = null;
  private eventSender: EventSender | null = null;
  /** When the frame in flight was handed to the socket; null when none is in flight. */
  private frameWrittenAt: number | null = null;
  private readonly controlBudget: RateLimiter;
  private readonly overBudget: RateLimiter;
  /** Reading is paused until the control budget refills. */
  private throttled = false;
  private droppedMessages = 0;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;

  constructor(o: ConnectionOptions) {
    this.o = o;
    this.socket = o.socket;
    this.log = o.logger.child({ peer: formatPeerAddress(o.socket) });
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 30_000);
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    // ECONNRESET, EPIPE and writes after the peer vanished land here; 'close' follows and ends the session.
    this.socket.on('error', (err) => this.log.debug({ err: err.message }, 'socket error'));
    this.socket.once('close', () => this.onClose());
    const l = o.limits;
    this.controlBudget = new RateLimiter({ ratePerSecond: l.controlPerSecond, burst: l.controlBurst, maxAddresses: 1 });
    this.overBudget = new RateLimiter({ ratePerSecond: l.overBudgetPerSecond, burst: l.overBudgetBurst, maxAddresses: 1 });
    this.bytes$ = socketBytes(this.socket);
    this.input = this.bytes$.subscribe(this.reader((chunk) => this.detect(chunk)));
    this.log.debug('connected');
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
    if (this.closing) return 0;
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
    return this.closing || this.frameWrittenAt === null ? 0 : now - this.frameWrittenAt;
  }

  /** Closes a client whose socket takes nothing (see stalledSince): nothing could reach it, so no ERROR. */
  closeStalled(timeoutMs: number): void {
    this.log.warn({ stallTimeoutMs: timeoutMs, queued: this.socket.writableLength }, 'client takes no data; closing');
    this.destroy();
  }

  /** Closes at once, nothing flushed (a silent connection evicted under a flood). */
  destroy(): void {
    this.closing = true;
    this.stopReading();
    this.session?.close();
    this.clearHelloTimer();
    this.socket.destroy();
  }

  /** Ends the connection politely: queued bytes are flushed, then it is destroyed if the peer stalls. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.stopReading();
    this.session?.close();
    this.clearHelloTimer();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /**
   * What reads the input: `next` for each item, a ProtocolError as the coded ERROR/close. Errors
   * thrown by our own handling are caught here, since RxJS would not route them to `error`.
   */
  private reader<T>(next: (item: T) => void): Partial<Observer<T>> {
    return {
      next: (item) => {
        if (this.closing) return;
        try {
          next(item);
        } catch (err) {
          this.onUnexpectedError(err);
        }
      },
      error: (err: unknown) => {
        if (err instanceof ProtocolError) this.onProtocolError(err);
        // Otherwise a socket error: its listener logged it and 'close' follows.
      },
    };
  }

  private stopReading(): void {
    this.input?.unsubscribe();
    this.input = null;
  }

  /** After detection: the rest of the head, then every later chunk, through the protocol's decoder. */
  private readOn<T>(rest: Buffer, decode: (bytes$: Observable<Buffer>) => Observable<T>, handle: (item: T) => void): void {
    this.stopReading();
    const bytes$ = rest.length > 0 ? this.bytes$.pipe(startWith(rest)) : this.bytes$;
    this.input = decode(bytes$).subscribe(this.reader(handle));
  }

  private detect(chunk: Buffer): void {
    this.lastInputAt = performance.now();
    if (this.head.length === 0) this.o.onFirstByte?.();
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    let kind: 'legacy' | 'v2' | 'more';
    try {
      kind = detectProtocol(this.head);
    } catch (err) {
      // 'E' then not ECAM\x02. ECAM with another version byte is a v2-style client we do not
      // speak: tell it in its framing. Anything else is a legacy client typing unknown bytes.
      if (err instanceof ProtocolError && startsLikeV2(this.head)) {
        this.protocol = 'v2';
        this.fail({ code: err.code, message: `unsupported protocol version 0x${(this.head[4] ?? 0).toString(16)}; this server speaks ECAM\\x02` });
        return;
      }
      kind = 'legacy';
    }
    if (kind === 'more') {
      // A v2 client has started its magic: from here the HELLO deadline runs.
      this.startHelloTimer();
      return;
    }
    const rest = kind === 'v2' ? this.head.subarray(V2_MAGIC.length) : this.head;
    this.head = Buffer.alloc(0);
    if (kind === 'legacy') this.startLegacy(rest);
    else this.startV2(rest);
  }

  private admit(protocol: ClientProtocol): boolean {
    const max = this.o.maxClients;
    return max <= 0 || this.o.registry.count(protocol) < max;
  }

  /** The last stage of a frame's way: ClientSession (session.ts) hands it here as [header, JPEG]. */
  private transport(): SessionTransport {
    const socket = this.socket;
    return {
      writeFrame: (parts, done) => {
        // One writev for header and JPEG, no copy.
        this.frameWrittenAt = performance.now();
        let bytes = 0;
        socket.cork();
        for (let i = 0; i < parts.length - 1; i++) {
          bytes += (parts[i] as Uint8Array).length;
          socket.write(parts[i] as Uint8Array);
        }
        bytes += (parts[parts.length - 1] as Uint8Array).length;
        socket.write(parts[parts.length - 1] as Uint8Array, (err) => {
          this.frameWrittenAt = null;
          done(err);
        });
        socket.uncork();
        this.lastFrameBytes = bytes;
      },
      get writableLength() {
        return socket.writableLength;
      },
    };
  }

  private openSession(protocol: ClientProtocol, encode: FrameEncoder, camera: ServedCamera): void {
    this.camera = camera;
    const handle = this.o.registry.register({ protocol, address: formatPeerAddress(this.socket), camera: camera.name });
    this.handleId = handle.id;
    this.log = this.log.child({ client: handle.id, protocol, camera: camera.name });
    this.session = new ClientSession({
      hub: camera.hub,
      handle,
      transport: this.transport(),
      encode,
      logger: this.log,
      statsIntervalMs: this.o.statsIntervalMs,
      onBye: () => this.close(),
    });
    this.log.info('client connected');
  }

  private startLegacy(rest: Buffer): void {
    this.protocol = 'legacy';
    if (this.o.access?.required && !this.o.allowLegacy) {
      // The legacy protocol has no way to present a token, and nothing to tell the client why.
      this.log.warn('legacy client refused: a token is required and legacy clients cannot send one (--allow-legacy lets them in)');
      this.closing = true;
      this.socket.destroy();
      return;
    }
    if (!this.admit('legacy')) {
      // A legacy client understands nothing but frames, so it is simply closed.
      this.log.warn({ maxClients: this.o.maxClients }, 'too many legacy clients; closing');
      this.closing = true;
      this.socket.destroy();
      return;
    }
    const camera = this.o.cameras.pick(undefined);
    if (!camera) throw new Error('a TCP port without a default camera');
    this.openSession('legacy', legacyEncoder, camera);
    this.readOn(rest, decodeCommands(), (e) => this.onLegacy(e));
  }

  private onLegacy(e: CommandEvent): void {
    this.lastInputAt = performance.now();
    if (!this.session || this.closing) return;
    if (e.kind === 'command') {
      if (!this.withinBudget()) return;
      this.session.command(e.command);
      return;
    }
    this.session.unknown(e.byte);
    if (this.session.counters.unknownBytes > MAX_UNKNOWN_BYTES && !this.closing) {
      this.log.warn({ unknownBytes: this.session.counters.unknownBytes }, 'client sends bytes that are no commands; closing');
      this.destroy();
    }
  }

  private startV2(rest: Buffer): void {
    this.protocol = 'v2';
    if (!this.admit('v2')) {
      this.log.warn({ maxClients: this.o.maxClients }, 'too many v2 clients; refusing');
      this.fail({ code: 'TOO_MANY_CLIENTS', message: `this server takes at most ${this.o.maxClients} v2 clients` });
      return;
    }
    this.startHelloTimer();
    this.readOn(rest, decodeClientMessages(), (m) => this.onMessage(m));
  }

  private onMessage(m: ClientMessage): void {
    this.lastInputAt = performance.now();
    if (this.closing) return;
    if (!this.greeted) {
      if (m.type !== 'hello') {
        this.fail({ code: 'HELLO_TIMEOUT', message: `HELLO must be the first message, got ${m.type.toUpperCase()}` });
        return;
      }
      const verdict = this.checkToken(m.hello.token);
      if (!verdict.ok) {
        this.fail({ code: 'UNAUTHORIZED', message: unauthorizedMessage(verdict) });
        return;
      }
      const camera = this.o.cameras.pick(m.hello.camera);
      if (!camera) {
        const asked = showPeerText(m.hello.camera ?? '');
        this.log.info({ camera: asked }, 'HELLO names no camera of this port');
        this.fail({ code: 'UNKNOWN_CAMERA', message: `no camera ${asked}; this server has: ${this.o.cameras.names().join(', ')}` });
        return;
      }
      this.greeted = true;
      this.controlBudget.take(BUCKET, performance.now());
      this.clearHelloTimer();
      this.openSession('v2', v2Encoder, camera);
      this.log.info({ clientName: m.hello.client === undefined ? undefined : peerText(m.hello.client) }, 'hello');
      this.socket.write(encodeWelcome(this.o.welcome(camera)));
      this.lossWatch = camera.sourceLoss$?.subscribe((reason) => this.onSourceLoss(reason)) ?? null;
      if (m.hello.events && this.o.events) this.eventSender = new EventSender(this.socket, this.o.events(camera.name), this.log);
      return;
    }
    if (!this.withinBudget()) return;
    switch (m.type) {
      case 'hello':
        this.log.debug('repeated HELLO ignored');
        return;
      case 'command':
        this.session?.command(m.command);
        if (m.command === '0' || m.command === '3') this.tellSourceLost();
        return;
      case 'ping':
        if (this.socket.writableLength > this.lastFrameBytes + CONTROL_BACKLOG_BYTES) {
          this.log.warn({ queued: this.socket.writableLength }, 'client sends PINGs but reads nothing; closing');
          this.closing = true;
          this.session?.close();
          this.socket.destroy();
          return;
        }
        this.socket.write(encodePong(m.data));
        return;
    }
  }

  /**
   * Spends one control message from the budget. Over it the message is dropped and reading
   * pauses until the budget has room again; far over it the client is closed.
   */
  private withinBudget(): boolean {
    const now = performance.now();
    const waitMs = this.controlBudget.take(BUCKET, now);
    if (waitMs === 0) return true;
    this.droppedMessages++;
    if (this.overBudget.take(BUCKET, now) > 0) {
      this.log.warn({ dropped: this.droppedMessages }, 'client floods control messages; closing');
      if (this.protocol === 'v2') this.fail({ code: 'TOO_MANY_MESSAGES', message: `more than ${this.o.limits.controlPerSecond} control messages a second` });
      else this.destroy();
      return false;
    }
    if (!this.throttled) {
      if (this.droppedMessages === 1) this.log.warn({ perSecond: this.o.limits.controlPerSecond }, 'client sends control messages over its budget; slowing it down');
      this.throttled = true;
      this.socket.pause();
      // Wait for a tenth of the burst, so a paused flooder is not woken for every single token.
      const refillMs = Math.max(waitMs, (this.o.limits.controlBurst / 10 / this.o.limits.controlPerSecond) * 1000);
      setTimeout(() => {
        this.throttled = false;
        if (!this.closing) this.socket.resume();
      }, refillMs).unref();
    }
    return false;
  }

  private onSourceLoss(reason: string | null): void {
    if (reason === null) {
      // Frames come again: a later loss is a new one, told again.
      this.sourceLost = null;
      this.toldSourceLost = false;
      return;
    }
    this.sourceLost = reason;
    if (this.session && this.session.mode !== 'idle') this.tellSourceLost();
  }

  /** v2: a non-fatal ERROR saying why no frames come, once per loss; the session goes on waiting. */
  private tellSourceLost(): void {
    if (this.sourceLost === null || this.toldSourceLost || this.closing) return;
    this.toldSourceLost = true;
    const message = clipReason(this.sourceLost);
    this.log.info({ reason: message }, 'told the client the source is unavailable');
    this.socket.write(encodeErrorMessage({ code: 'SOURCE_UNAVAILABLE', message }));
  }

  private checkToken(token: string | undefined): AccessVerdict {
    if (!this.o.access) return { ok: true };
    return this.o.access.check({ address: this.socket.remoteAddress, port: this.socket.remotePort }, token === undefined ? [] : [token], 'v2');
  }

  private onProtocolError(err: ProtocolError): void {
    if (this.closing) return;
    if (err.code === 'TRUNCATED' && this.socket.readableEnded) {
      // The peer hung up inside a message: nobody is left to read an ERROR.
      this.log.debug({ err: err.message }, 'peer ended mid-message');
      return;
    }
    const message = shownMessage(err);
    this.log.warn({ code: err.code, err: message }, 'protocol error; closing');
    this.fail({ code: err.code, message });
  }

  private onUnexpectedError(err: unknown): void {
    this.log.error({ err }, 'unexpected error handling client input; closing');
    this.closing = true;
    this.session?.close();
    this.socket.destroy();
  }

  /** v2 only: an ERROR message, then close. */
  private fail(error: ErrorBody): void {
    if (this.closing) return;
    this.socket.write(encodeErrorMessage(error));
    this.close();
  }

  private startHelloTimer(): void {
    if (this.helloTimer || this.greeted) return;
    this.helloTimer = setTimeout(() => {
      this.helloTimer = null;
      if (this.greeted || this.closing) return;
      this.log.warn({ helloTimeoutMs: this.o.helloTimeoutMs }, 'no HELLO in time; closing');
      if (this.protocol === 'v2') this.fail({ code: 'HELLO_TIMEOUT', message: `no HELLO within ${this.o.helloTimeoutMs} ms` });
      else {
        // Still inside the magic: not a v2 client yet, so no message it could parse.
        this.closing = true;
        this.socket.destroy();
      }
    }, this.o.helloTimeoutMs);
    this.helloTimer.unref();
  }

  private clearHelloTimer(): void {
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  private onClose(): void {
    this.stopReading();
    this.lossWatch?.unsubscribe();
    this.eventSender?.close();
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

function unauthorizedMessage(verdict: Exclude<AccessVerdict, { ok: true }>): string {
  switch (verdict.reason) {
    case 'missing':
      return 'no token in HELLO';
    case 'wrong':
      return 'wrong token';
    case 'throttled':
      return verdict.message;
  }
}

/**
 * A protocol error as logged and sent back. JSON.parse quotes what it could not parse, and a
 * HELLO that is no JSON is often the bare token: that text is not repeated.
 */
function shownMessage(err: ProtocolError): string {
  if (err.code === 'BAD_PAYLOAD' && err.cause instanceof SyntaxError) return 'HELLO payload is not JSON; send {"token": "…", "client": "…"}';
  return err.message;
}
