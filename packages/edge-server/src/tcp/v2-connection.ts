// A v2 client: after its ECAM\x02 magic, HELLO (token, camera, whether it wants events) answered
// by WELCOME, then COMMANDs answered with FRAME messages and PINGs with PONGs. A broken or refused
// peer gets an ERROR message and is closed. The one ERROR that keeps the connection open is
// SOURCE_UNAVAILABLE: a client waiting for frames is told, once per loss, why none come.
import type { Subscription } from 'rxjs';
import {
  encodeErrorMessage,
  encodeFrameMessage,
  encodePong,
  encodeWelcome,
  type ClientMessage,
  type Hello,
  type ProtocolError,
} from '@edgecam/protocol';
import { decodeClientMessages } from '@edgecam/protocol/rx';
import type { AccessVerdict } from '../access/access-control.js';
import { EventSender } from './event-sender.js';
import { peerText, showPeerText } from '../log/peer-text.js';
import { oncePerFrame } from '../camera/per-frame.js';
import type { ClientSession, FrameEncoder } from './client-session.js';
import type { ConnectionLink } from './types.js';

// Encoded once per frame and shared by every v2 client (header buffers included). FRAME carries a
// u32 sequence number: after 2^32 frames (4.5 years at 30 fps) it wraps.
const v2Encoder: FrameEncoder = oncePerFrame((f) => encodeFrameMessage(f.seq % 0x1_0000_0000, f.captureTimeUs, f.jpeg));

// Control messages (PONG) a client makes us queue while it does not read: beyond this much
// waiting in user space besides the frame in flight, it is flooding us and is dropped.
const CONTROL_BACKLOG_BYTES = 64 * 1024;
// WELCOME and ERROR are JSON of at most 4096 bytes; a source's reason (an ffmpeg stderr line) is cut to fit.
const MAX_REASON_CHARS = 1000;

/** A source's failure reason, cut to fit a WELCOME or an ERROR. */
export function clipReason(reason: string): string {
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason;
}

/** A connection detected as v2, from the bytes after its magic (`rest`) to close. */
export class V2Connection {
  private session: ClientSession | null = null;
  /** Why the source is lost right now (null: it is not), and whether this client was told. */
  private sourceLost: string | null = null;
  private toldSourceLost = false;
  private lossWatch: Subscription | null = null;
  private eventSender: EventSender | null = null;

  constructor(
    private readonly link: ConnectionLink,
    rest: Buffer,
  ) {
    if (!link.admit('v2')) {
      link.log.warn({ maxClients: link.options.maxClients }, 'too many v2 clients; refusing');
      link.fail({ code: 'TOO_MANY_CLIENTS', message: `this server takes at most ${link.options.maxClients} v2 clients` });
      return;
    }
    link.startHelloTimer();
    link.readOn(
      rest,
      decodeClientMessages(),
      (m) => this.onMessage(m),
      (err) => this.onProtocolError(err),
    );
  }

  /** The socket closed: stop watching the source and sending events. */
  closed(): void {
    this.lossWatch?.unsubscribe();
    this.eventSender?.close();
  }

  private onMessage(m: ClientMessage): void {
    const link = this.link;
    if (!this.session) {
      if (m.type !== 'hello') {
        link.fail({ code: 'HELLO_TIMEOUT', message: `HELLO must be the first message, got ${m.type.toUpperCase()}` });
        return;
      }
      this.greet(m.hello);
      return;
    }
    const spend = link.budget.spend(link.log);
    if (spend === 'close') link.fail({ code: 'TOO_MANY_MESSAGES', message: `more than ${link.options.limits.controlPerSecond} control messages a second` });
    if (spend !== 'answer') return;
    switch (m.type) {
      case 'hello':
        link.log.debug('repeated HELLO ignored');
        return;
      case 'command':
        this.session.command(m.command);
        if (m.command === '0' || m.command === '3') this.tellSourceLost();
        return;
      case 'ping':
        if (link.socket.writableLength > link.transport.lastFrameBytes + CONTROL_BACKLOG_BYTES) {
          link.log.warn({ queued: link.socket.writableLength }, 'client sends PINGs but reads nothing; closing');
          link.destroy();
          return;
        }
        link.socket.write(encodePong(m.data));
        return;
    }
  }

  /** The first message: a HELLO with the right token and a camera of this port opens the session. */
  private greet(hello: Hello): void {
    const link = this.link;
    const o = link.options;
    const verdict = this.checkToken(hello.token);
    if (!verdict.ok) {
      link.fail({ code: 'UNAUTHORIZED', message: unauthorizedMessage(verdict) });
      return;
    }
    const camera = o.cameras.pick(hello.camera);
    if (!camera) {
      const asked = showPeerText(hello.camera ?? '');
      link.log.info({ camera: asked }, 'HELLO names no camera of this port');
      link.fail({ code: 'UNKNOWN_CAMERA', message: `no camera ${asked}; this server has: ${o.cameras.names().join(', ')}` });
      return;
    }
    link.budget.spendHello();
    link.clearHelloTimer();
    this.session = link.openSession('v2', v2Encoder, camera);
    link.log.info({ clientName: hello.client === undefined ? undefined : peerText(hello.client) }, 'hello');
    link.socket.write(encodeWelcome(o.welcome(camera)));
    this.lossWatch = camera.sourceLoss$?.subscribe((reason) => this.onSourceLoss(reason)) ?? null;
    if (hello.events && o.events) this.eventSender = new EventSender(link.socket, o.events(camera.name), link.log);
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

  /** A non-fatal ERROR saying why no frames come, once per loss; the session goes on waiting. */
  private tellSourceLost(): void {
    if (this.sourceLost === null || this.toldSourceLost || this.link.closing) return;
    this.toldSourceLost = true;
    const message = clipReason(this.sourceLost);
    this.link.log.info({ reason: message }, 'told the client the source is unavailable');
    this.link.socket.write(encodeErrorMessage({ code: 'SOURCE_UNAVAILABLE', message }));
  }

  private checkToken(token: string | undefined): AccessVerdict {
    const { access } = this.link.options;
    if (!access) return { ok: true };
    const socket = this.link.socket;
    return access.check({ address: socket.remoteAddress, port: socket.remotePort }, token === undefined ? [] : [token], 'v2');
  }

  private onProtocolError(err: ProtocolError): void {
    const link = this.link;
    if (link.closing) return;
    if (err.code === 'TRUNCATED' && link.socket.readableEnded) {
      // The peer hung up inside a message: nobody is left to read an ERROR.
      link.log.debug({ err: err.message }, 'peer ended mid-message');
      return;
    }
    const message = shownMessage(err);
    link.log.warn({ code: err.code, err: message }, 'protocol error; closing');
    link.fail({ code: err.code, message });
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
