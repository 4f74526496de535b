// One GET /stream.mjpg viewer: subscribes to the shared capture while connected and writes each
// frame as a multipart part, newest frame wins when the viewer reads slower than the source.
// While the camera is lost it gets the "no signal" picture about once a second instead, and the
// live frames again as soon as they return; the connection stays open throughout.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import type { ClientHandle, ClientRegistry, FrameHub } from '../contracts.js';
import { FramePacer } from './frame-pacer.js';
import { framePart, streamEpilogue, streamPreamble, STREAM_CONTENT_TYPE, type PartLayout } from './multipart.js';
import { NO_SIGNAL_INTERVAL_MS, noSignalFrame } from './no-signal.js';
import { BASE_HEADERS } from './responses.js';

export interface MjpegViewerOptions {
  hub: FrameHub;
  registry: ClientRegistry;
  logger: Logger;
  /** `host:port` of the peer, for /status and the logs. */
  address: string;
  layout: PartLayout;
  /** `?fps=N`; undefined sends every frame. */
  maxFps: number | undefined;
  /** A viewer whose socket has not drained for this long is disconnected. */
  stallTimeoutMs: number;
  onClose: (viewer: MjpegViewer) => void;
}

export class MjpegViewer {
  private readonly res: ServerResponse;
  private readonly opts: MjpegViewerOptions;
  private readonly pacer: FramePacer | undefined;
  private readonly client: ClientHandle;
  private readonly log: Logger;
  private subscription: Subscription | undefined;
  /**
   * Backpressure state. While the socket holds an unsent frame (write() returned false, i.e.
   * more than its highWaterMark of 16 KiB is buffered) new frames are not written: the newest
   * waits here and replaces any older one, which counts as dropped. So a viewer that never reads
   * costs at most one frame in the socket buffer plus a reference to one shared hub frame.
   */
  private awaitingDrain = false;
  private pending: CapturedFrame | undefined;
  private lastWritten: CapturedFrame | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private noSignalTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private framesSent = 0;
  private framesDropped = 0;
  private readonly startedAt = Date.now();

  constructor(res: ServerResponse, opts: MjpegViewerOptions) {
    this.res = res;
    this.opts = opts;
    this.pacer = opts.maxFps === undefined ? undefined : new FramePacer(opts.maxFps);
    this.client = opts.registry.register({ protocol: 'http', address: opts.address });
    this.log = opts.logger.child({ client: this.client.id, protocol: 'http', address: opts.address });
  }

  start(): void {
    const { res } = this;
    // A stream never ends by itself: no chunked framing, the end of the stream is the end of
    // the connection. Dumb MJPEG clients expect exactly that, and each frame costs no chunk headers.
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, {
      ...BASE_HEADERS,
      'Content-Type': STREAM_CONTENT_TYPE,
      'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
      Pragma: 'no-cache',
      // Reverse proxies (nginx) would otherwise buffer the stream and add latency.
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write(streamPreamble(this.opts.layout));

    res.on('drain', this.onDrain);
    res.on('close', this.onClose);
    res.on('error', (err) => this.log.debug({ err: err.message }, 'http viewer response error'));
    // Gone before we started (its 'close' already fired): never subscribe for nobody.
    if (res.destroyed) {
      this.release();
      return;
    }

    this.client.setMode('streaming');
    this.log.info({ layout: this.opts.layout, maxFps: this.opts.maxFps ?? null }, 'http viewer connected');

    // Show something at once: frames$ never replays, and at a low frame rate the next frame may
    // be a while away.
    const latest = this.opts.hub.latest();
    if (latest) this.offer(latest);
    if (this.closed) return;
    this.subscription = this.opts.hub.frames$.subscribe({
      next: (frame) => this.offer(frame),
      error: (err: unknown) => {
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'frame source failed; ending the stream');
        this.end();
      },
      complete: () => this.end(),
    });
    this.showNoSignal();
    if (!this.closed) this.noSignalTimer = setInterval(this.showNoSignal, NO_SIGNAL_INTERVAL_MS);
  }

  /** Sends the placeholder if the camera is lost right now; frames$ brings the live frames back. */
  private readonly showNoSignal = (): void => {
    if (this.closed || !this.opts.hub.info().noSignal) return;
    // Not through the pacer: it is already slow, and ?fps= must not hide it.
    if (this.awaitingDrain) {
      this.pending = noSignalFrame();
      return;
    }
    this.write(noSignalFrame());
  };

  /**
   * Ends the stream with the closing boundary, e.g. when the server shuts down. A viewer that is
   * not reading would never take those bytes and keep the connection (and server.close()) open,
   * so it is cut off instead.
   */
  end(): void {
    if (this.closed || this.res.writableEnded) return;
    if (this.awaitingDrain) this.res.destroy();
    else this.res.end(streamEpilogue(this.opts.layout));
    this.release();
  }

  private offer(frame: CapturedFrame): void {
    if (this.closed || frame === this.lastWritten) return;
    if (this.pacer && !this.pacer.admit(performance.now())) return;
    if (this.awaitingDrain) {
      if (this.pending) this.countDropped();
      this.pending = frame;
      return;
    }
    this.write(frame);
  }

  private write(frame: CapturedFrame): void {
    const { res } = this;
    const { prefix, suffix } = framePart(this.opts.layout, frame);
    // Corked so the three pieces leave in one writev; the JPEG itself is never copied.
    res.cork();
    if (prefix.length > 0) res.write(prefix);
    res.write(frame.jpeg);
    const flushed = res.write(suffix);
    res.uncork();
    this.lastWritten = frame;
    this.framesSent += 1;
    this.client.sent(prefix.length + frame.jpeg.length + suffix.length, frame.captureTimeUs);
    if (!flushed) {
      this.awaitingDrain = true;
      this.stallTimer ??= setTimeout(this.onStall, this.opts.stallTimeoutMs);
    }
  }

  private countDropped(): void {
    this.framesDropped += 1;
    this.client.dropped(1);
  }

  private readonly onDrain = (): void => {
    this.awaitingDrain = false;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    const next = this.pending;
    this.pending = undefined;
    if (next && !this.closed) this.write(next);
  };

  private readonly onStall = (): void => {
    this.stallTimer = undefined;
    this.log.warn({ stallTimeoutMs: this.opts.stallTimeoutMs }, 'http viewer stopped reading; disconnecting');
    this.res.destroy();
  };

  private readonly onClose = (): void => {
    this.release();
  };

  private release(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.pending = undefined;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    clearInterval(this.noSignalTimer);
    this.noSignalTimer = undefined;
    this.client.close();
    this.log.info(
      { framesSent: this.framesSent, dropped: this.framesDropped, seconds: (Date.now() - this.startedAt) / 1000 },
      'http viewer disconnected',
    );
    this.opts.onClose(this);
  }
}
