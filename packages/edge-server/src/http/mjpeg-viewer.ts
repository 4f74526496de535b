// One GET /stream.mjpg viewer: subscribes to the shared capture while connected and writes each
// frame as a multipart part, newest frame wins when the viewer reads slower than the source.
// While the camera is lost it gets the "no signal" picture about once a second instead, and the
// live frames again as soon as they return; the connection stays open throughout.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import {
  multipartEpilogue,
  multipartPart,
  multipartPreamble,
  MULTIPART_CONTENT_TYPE,
  writeMultipartFrame,
  type CapturedFrame,
  type PartFrame,
  type PartLayout,
} from '@edgecam/protocol';
import { describeSystemError, NewestWins } from '@edgecam/runtime';
import type { ClientHandle, ClientRegistry, FrameHub } from '../contracts.js';
import { oncePerFrame } from '../camera/per-frame.js';
import { FramePacer } from './frame-pacer.js';
import { NO_SIGNAL_INTERVAL_MS, noSignalFrame } from './no-signal.js';
import { BASE_HEADERS } from './responses.js';

export interface MjpegViewerOptions {
  hub: FrameHub;
  /** The camera's name, for /status and the per-camera metrics. */
  camera?: string;
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

// The part headers carry the frame's length: built once per frame, shared by every viewer.
const lengthPrefixedPart = oncePerFrame((frame) => multipartPart('length-prefixed', frame.jpeg.length));

/** The bytes around one frame's JPEG in `layout` (shared: never mutate them). */
export function framePart(layout: PartLayout, frame: CapturedFrame): PartFrame {
  return layout === 'length-prefixed' ? lengthPrefixedPart(frame) : multipartPart(layout, frame.jpeg.length);
}

/** One stream response: multipart parts of the newest frame, the placeholder while there is no signal. */
export class MjpegViewer {
  private readonly res: ServerResponse;
  private readonly opts: MjpegViewerOptions;
  private readonly pacer: FramePacer | undefined;
  private readonly client: ClientHandle;
  private readonly log: Logger;
  /**
   * A frame is in flight while the socket buffers more than its highWaterMark (write() returned
   * false); meanwhile only the newest frame waits. A viewer that never reads costs one frame in
   * the socket buffer plus a reference to one shared hub frame.
   */
  private readonly slot: NewestWins<CapturedFrame>;
  private subscription: Subscription | undefined;
  private drained: (() => void) | undefined;
  private lastWritten: CapturedFrame | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private noSignalTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private framesSent = 0;
  private readonly startedAt = Date.now();

  constructor(res: ServerResponse, opts: MjpegViewerOptions) {
    this.res = res;
    this.opts = opts;
    this.pacer = opts.maxFps === undefined ? undefined : new FramePacer(opts.maxFps);
    this.client = opts.registry.register({ protocol: 'http', address: opts.address, ...(opts.camera !== undefined ? { camera: opts.camera } : {}) });
    this.log = opts.logger.child({ client: this.client.id, protocol: 'http', address: opts.address });
    this.slot = new NewestWins({ deliver: this.write, onDrop: () => this.client.dropped(1) });
  }

  /** Sends the response head and the preamble, then frames until the viewer or the source goes. */
  start(): void {
    const { res } = this;
    // A stream never ends by itself: no chunked framing, the end of the stream is the end of
    // the connection. Dumb MJPEG clients expect exactly that, and each frame costs no chunk headers.
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, {
      ...BASE_HEADERS,
      'Content-Type': MULTIPART_CONTENT_TYPE,
      'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
      Pragma: 'no-cache',
      // Reverse proxies (nginx) would otherwise buffer the stream and add latency.
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write(multipartPreamble(this.opts.layout));

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
        this.log.warn({ err: describeSystemError(err) }, 'frame source failed; ending the stream');
        this.end();
      },
      complete: () => this.end(),
    });
    this.showNoSignal();
    if (!this.closed) this.noSignalTimer = setInterval(this.showNoSignal, NO_SIGNAL_INTERVAL_MS);
  }

  /**
   * Ends the stream with the closing boundary, e.g. when the server shuts down. A viewer that is
   * not reading would never take those bytes and keep the connection (and server.close()) open,
   * so it is cut off instead.
   */
  end(): void {
    if (this.closed || this.res.writableEnded) return;
    if (this.slot.busy) this.res.destroy();
    else this.res.end(multipartEpilogue(this.opts.layout));
    this.release();
  }

  /** Sends the placeholder if the camera is lost right now; frames$ brings the live frames back. */
  private readonly showNoSignal = (): void => {
    if (this.closed || !this.opts.hub.info().noSignal) return;
    // Not through the pacer: it is already slow, and ?fps= must not hide it. It replaces a
    // waiting frame without counting a drop: that frame is stale, not skipped for slowness.
    this.slot.clear();
    this.slot.offer(noSignalFrame());
  };

  private offer(frame: CapturedFrame): void {
    if (this.closed || frame === this.lastWritten) return;
    if (this.pacer && !this.pacer.admit(performance.now())) return;
    this.slot.offer(frame);
  }

  /** NewestWins' deliver: done at once when the socket took it all, else on 'drain'. */
  private readonly write = (frame: CapturedFrame, done: () => void): void => {
    if (this.closed) return;
    const part = framePart(this.opts.layout, frame);
    const flushed = writeMultipartFrame(this.res, part, frame.jpeg);
    this.lastWritten = frame;
    this.framesSent += 1;
    this.client.sent(part.prefix.length + frame.jpeg.length + part.suffix.length, frame.captureTimeUs);
    if (flushed) {
      done();
      return;
    }
    this.drained = done;
    this.stallTimer ??= setTimeout(this.onStall, this.opts.stallTimeoutMs);
  };

  private readonly onDrain = (): void => {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    const done = this.drained;
    this.drained = undefined;
    if (!this.closed) done?.();
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
    this.slot.clear();
    this.drained = undefined;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    clearInterval(this.noSignalTimer);
    this.noSignalTimer = undefined;
    this.client.close();
    this.log.info(
      { framesSent: this.framesSent, dropped: this.slot.dropped, seconds: (Date.now() - this.startedAt) / 1000 },
      'http viewer disconnected',
    );
    this.opts.onClose(this);
  }
}
