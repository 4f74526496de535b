// One client's session: what it asked for, and delivery with newest-frame-wins backpressure.
// Nothing here touches the network, so the rules can be tested with a fake transport.
// A frame's way: SharedFrameHub.frames$ (frame-hub.ts) -> onFrame -> NewestWins -> send ->
// SessionTransport.writeFrame, which SocketTransport (socket-transport.ts) writes onto the socket.
//
// Each session owns all of its state, so one client can never disturb another. Rules:
// - `0` sends the newest frame once (waiting for the first one if the capture has none yet);
//   ignored while streaming. Each `0` gets one frame.
// - `1` acknowledges a single frame. Nothing waits for it; it is counted.
// - `3` streams every new frame; `q` stops; `2` ends this session only.
// - At most one frame is in flight, meaning not yet handed to the kernel. A frame that arrives
//   meanwhile waits in a one-frame slot (NewestWins); a newer one replaces it and the older is
//   counted as dropped. So a client that never reads costs one frame of memory, and slows nobody.
import type { Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { CapturedFrame, CommandChar } from '@edgecam/protocol';
import { NewestWins } from '@edgecam/runtime';
import type { ClientHandle, ClientMode, FrameHub } from '../contracts.js';

/** What a session writes frames to (the socket, or a fake in tests). */
export interface SessionTransport {
  /**
   * Writes one frame's parts (header, JPEG) as one corked write; calls done once they are handed
   * to the OS (or with an error when the connection failed).
   */
  writeFrame(parts: readonly Uint8Array[], done: (err?: Error | null) => void): void;
  /** Bytes queued in user space, not yet handed to the OS. */
  readonly writableLength: number;
}

/** The parts of one frame on the wire; shared by every client sent that frame, so never mutated. */
export type FrameEncoder = (frame: CapturedFrame) => readonly Uint8Array[];

/** Options of ClientSession. */
export interface SessionOptions {
  hub: FrameHub;
  handle: ClientHandle;
  transport: SessionTransport;
  encode: FrameEncoder;
  logger: Logger;
  /** Called once when the client sends `2`: the connection should be closed. */
  onBye: () => void;
  /** How often a streaming client's stats line is logged; 0 turns it off. */
  statsIntervalMs?: number;
}

/** What a session has done, for its stats line and its goodbye. */
export interface SessionCounters {
  framesSent: number;
  bytesSent: number;
  dropped: number;
  acks: number;
  unknownBytes: number;
}

/** One client's commands and frame delivery. */
export class ClientSession {
  private readonly o: SessionOptions;
  private readonly log: Logger;
  private streaming = false;
  private singlesWanted = 0;
  private readonly delivery: NewestWins<CapturedFrame>;
  private subscription: Subscription | null = null;
  private ended = false;
  private statsTimer: NodeJS.Timeout | null = null;
  private statsAt = 0;
  private statsBase = { framesSent: 0, bytesSent: 0, dropped: 0 };
  readonly counters: SessionCounters = { framesSent: 0, bytesSent: 0, dropped: 0, acks: 0, unknownBytes: 0 };

  constructor(opts: SessionOptions) {
    this.o = opts;
    this.log = opts.logger;
    this.delivery = new NewestWins<CapturedFrame>({
      deliver: (frame, done) => this.send(frame, done),
      onIdle: () => this.onIdle(),
      onDrop: () => {
        this.counters.dropped++;
        this.o.handle.dropped(1);
      },
    });
  }

  get mode(): ClientMode {
    return this.streaming ? 'streaming' : this.singlesWanted > 0 ? 'single' : 'idle';
  }

  /** True while a frame is being handed to the OS (for tests and diagnostics). */
  get busy(): boolean {
    return this.delivery.busy;
  }

  command(c: CommandChar): void {
    if (this.ended) return;
    switch (c) {
      case '0':
        if (this.streaming) {
          this.log.debug('0 ignored while streaming');
          return;
        }
        this.singlesWanted++;
        if (!this.delivery.busy) this.serveSingle();
        break;
      case '1':
        this.counters.acks++;
        break;
      case '3':
        if (this.streaming) return;
        this.streaming = true;
        // A single still waiting is answered by the stream's first frame (see send), or, if `q`
        // comes before any frame does, by the next frame after it.
        this.log.info('streaming started');
        this.startStats();
        break;
      case 'q':
        if (!this.streaming) return;
        this.streaming = false;
        this.delivery.clear();
        this.logStats(true);
        this.stopStats();
        this.log.info({ framesSent: this.counters.framesSent, dropped: this.counters.dropped }, 'streaming stopped');
        break;
      case '2':
        this.log.info('client said goodbye');
        this.close();
        this.o.onBye();
        return;
    }
    this.o.handle.setMode(this.mode);
    this.updateSubscription();
  }

  /** A byte that is no command: logged (loudly only the first time) and skipped. */
  unknown(byte: number): void {
    this.counters.unknownBytes++;
    // Garbage can arrive by the kilobyte: build the log fields only when they will be written.
    if (this.counters.unknownBytes > 1 && !this.log.isLevelEnabled('debug')) return;
    const fields = { byte: `0x${byte.toString(16).padStart(2, '0')}`, unknownBytes: this.counters.unknownBytes };
    if (this.counters.unknownBytes === 1) this.log.warn(fields, 'unknown command byte skipped');
    else this.log.debug(fields, 'unknown command byte skipped');
  }

  /** Ends the session: no more frames, the handle leaves the registry. Idempotent. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.streaming) this.logStats(true);
    this.streaming = false;
    this.singlesWanted = 0;
    this.delivery.clear();
    this.stopStats();
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.o.handle.close();
  }

  /** Subscribed to the capture only while something is wanted: an idle client costs no CPU. */
  private updateSubscription(): void {
    const want = !this.ended && (this.streaming || this.singlesWanted > 0);
    if (want && !this.subscription) {
      this.subscription = this.o.hub.frames$.subscribe({ next: (f) => this.onFrame(f) });
    } else if (!want && this.subscription) {
      const s = this.subscription;
      this.subscription = null;
      s.unsubscribe();
    }
  }

  private onFrame(frame: CapturedFrame): void {
    if (this.ended) return;
    if (this.streaming) {
      this.delivery.offer(frame);
      return;
    }
    // A single is never queued behind a busy socket: onIdle serves it from latest().
    if (this.singlesWanted > 0 && !this.delivery.busy) {
      this.singlesWanted--;
      this.delivery.offer(frame);
      this.o.handle.setMode(this.mode);
      this.updateSubscription();
    }
  }

  /** The socket took the last frame and none waits: serve a single that is still owed. */
  private onIdle(): void {
    if (this.ended || this.streaming) return;
    this.serveSingle();
    this.updateSubscription();
  }

  /** Answers a waiting `0` with the newest frame, if there is one yet. */
  private serveSingle(): void {
    if (this.singlesWanted === 0) return;
    const frame = this.o.hub.latest();
    if (!frame) return;
    this.singlesWanted--;
    this.delivery.offer(frame);
    this.o.handle.setMode(this.mode);
  }

  private send(frame: CapturedFrame, done: () => void): void {
    // A stream frame also answers every single that was still waiting when `3` came.
    if (this.streaming) this.singlesWanted = 0;
    const parts = this.o.encode(frame);
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    this.counters.framesSent++;
    this.counters.bytesSent += bytes;
    this.o.handle.sent(bytes, frame.captureTimeUs);
    this.o.transport.writeFrame(parts, (err) => {
      // A failed write means the connection is going away; its 'close' ends the session.
      if (!err) done();
    });
  }

  private startStats(): void {
    const every = this.o.statsIntervalMs ?? 1000;
    if (every <= 0 || this.statsTimer) return;
    this.statsAt = performance.now();
    this.statsBase = { ...this.counters };
    this.statsTimer = setInterval(() => this.logStats(false), every);
    this.statsTimer.unref();
  }

  private stopStats(): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
  }

  /** The once-a-second line: frames sent, fps, dropped and kbit/s since the last line. */
  private logStats(final: boolean): void {
    if (!this.statsTimer) return;
    const now = performance.now();
    const seconds = (now - this.statsAt) / 1000;
    if (seconds <= 0 || (final && seconds < 0.2)) return;
    const sent = this.counters.framesSent - this.statsBase.framesSent;
    const dropped = this.counters.dropped - this.statsBase.dropped;
    const bytes = this.counters.bytesSent - this.statsBase.bytesSent;
    this.statsAt = now;
    this.statsBase = { ...this.counters };
    this.log.info(
      {
        sent,
        fps: Math.round((sent / seconds) * 10) / 10,
        dropped,
        kbps: Math.round((bytes * 8) / 1000 / seconds),
        queued: this.o.transport.writableLength,
      },
      'streaming',
    );
  }
}
