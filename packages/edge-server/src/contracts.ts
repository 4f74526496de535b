// The seams between the capture, the TCP side and the HTTP side. The TCP server and the HTTP
// server both consume one FrameHub and report their clients to one ClientRegistry, so /status
// and /metrics see every viewer whatever protocol it speaks.
import type { Observable } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import type { Logger } from 'pino';

/** custom: a FrameSource handed to startEdgeServer by code (StartOptions.source). */
export type SourceKind = 'testsrc' | 'v4l2' | 'file' | 'stdin' | 'http' | 'rtsp' | 'tcp' | 'edgecam' | 'custom';

/** idle: nobody is watching, no ffmpeg runs. restarting: the source died and waits to retry. */
export type SourceState = 'idle' | 'starting' | 'running' | 'restarting';

/** What /status and WELCOME say about the capture. */
export interface SourceInfo {
  kind: SourceKind;
  /** As given on the command line, e.g. `v4l2:/dev/video0`. */
  spec: string;
  /** From the newest frame's SOF marker once frames arrive; the configured size before that. */
  width: number;
  height: number;
  fpsConfigured: number;
  /** Frames captured over the last few seconds, per second. */
  fpsMeasured: number;
  state: SourceState;
  restarts: number;
  framesCaptured: number;
  /** Wall-clock ms of the newest frame, or null before the first. */
  lastFrameAt: number | null;
  /** Why the source last failed, while restarting. */
  lastError: string | null;
  /**
   * A capture is wanted but nothing comes: the source failed and is being restarted, or its
   * newest frame is older than the staleness limit. HTTP viewers get a "no signal" picture.
   */
  noSignal: boolean;
}

/** The one capture every consumer shares. */
export interface FrameHub {
  /**
   * Hot stream of new frames. Each subscription counts as a consumer: the first starts the
   * capture, and it stops `idleStop` seconds after the last unsubscribes (unless always-on).
   * Frames are never replayed; use latest() for the newest one.
   */
  readonly frames$: Observable<CapturedFrame>;
  /** The newest frame, or undefined before the first (or once it is older than the source's staleness limit). */
  latest(): CapturedFrame | undefined;
  /** The newest frame, starting the capture if idle and waiting up to timeoutMs for a first frame. */
  snapshot(timeoutMs: number): Promise<CapturedFrame>;
  info(): SourceInfo;
}

/** How a client is connected. */
export type ClientProtocol = 'legacy' | 'v2' | 'http';
/** What a client is being sent. */
export type ClientMode = 'idle' | 'single' | 'streaming';

/** One client as /status lists it. */
export interface ClientStats {
  id: number;
  protocol: ClientProtocol;
  address: string;
  /** The camera it watches; absent for a server's own bookkeeping that names none. */
  camera?: string;
  mode: ClientMode;
  connectedAt: number;
  framesSent: number;
  dropped: number;
  bytesSent: number;
  /** Frames sent over the last second. */
  fps: number;
}

/** What a session (TCP or HTTP) reports about itself; also feeds the Prometheus metrics. */
export interface ClientHandle {
  readonly id: number;
  setMode(mode: ClientMode): void;
  /** A frame was written to this client; captureTimeUs gives the capture-to-send latency. */
  sent(bytes: number, captureTimeUs: number): void;
  /** Frames this client could not take (newest-frame-wins skipped them). */
  dropped(count?: number): void;
  /** The client left; removes it from the registry. Idempotent. */
  close(): void;
}

/** Every connected client, whatever its protocol. */
export interface ClientRegistry {
  register(init: { protocol: ClientProtocol; address: string; camera?: string }): ClientHandle;
  list(): ClientStats[];
  count(protocol?: ClientProtocol): number;
}

/**
 * Prometheus metrics, one set per server instance so tests can run several servers in one
 * process. `text()` is the body of GET /metrics.
 */
export interface ServerMetrics {
  readonly contentType: string;
  text(): Promise<string>;
}

/**
 * One camera of the server as the features that hang off it (recording, motion, H.264, events)
 * see it: its name, its shared capture and a logger that already says which camera.
 */
export interface CameraContext {
  readonly name: string;
  readonly hub: FrameHub;
  readonly logger: Logger;
}

/**
 * Something a camera's detector saw. A motion event is published at `start`, may be updated while
 * it lasts (a higher score, a better snapshot), and published once more at `end`.
 */
export interface CameraEvent {
  /** Unique within the server's run, e.g. `front-1733070000000`. */
  readonly id: string;
  readonly camera: string;
  readonly type: 'motion';
  readonly phase: 'start' | 'update' | 'end';
  /** Wall-clock ms. */
  readonly startedAt: number;
  /** Wall-clock ms; set at `end` only. */
  readonly endedAt?: number;
  /** 0..1: the largest share of the (unmasked) picture seen moving so far. */
  readonly score: number;
  /** The frame that best shows the event so far. */
  readonly snapshot?: CapturedFrame;
}
