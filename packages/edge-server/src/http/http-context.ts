// What every HTTP endpoint works with: the cameras, the bookkeeping, the server's settings and
// limits. Its own file so that routes (route.ts) and the router can name it without a cycle.
import type { Logger } from 'pino';
import type { AccessControl } from '../access/access-control.js';
import type { HostRateLimiter } from '../access/rate-limiter.js';
import type { CameraSettings, SettingsChange, SettingsLimits } from '../camera/camera-settings.js';
import type { SourceChange } from '../camera/frame-hub.js';
import type { ClientRegistry, FrameHub, ServerMetrics } from '../contracts.js';
import type { LogLimiter } from '../log/log-limiter.js';
import type { PageParts } from './index-page.js';
import type { MjpegViewer } from './mjpeg-viewer.js';
import type { StreamAdmission } from './stream-admission.js';

/** A camera as the HTTP side serves it; settings are only for cameras that can change them. */
export interface HttpCamera {
  readonly name: string;
  readonly hub: FrameHub;
  settings?(): CameraSettings;
  /** The most applySettings takes (maxSize, maxFps). */
  limits?(): SettingsLimits;
  lastChange?(): SourceChange | null;
  applySettings?(change: SettingsChange): CameraSettings;
}

/** The cameras by name, the default first. */
export interface HttpCameras {
  readonly default: HttpCamera;
  get(name: string): HttpCamera | undefined;
  names(): string[];
  list(): HttpCamera[];
}

/** What every endpoint may use: the shared capture, the bookkeeping and the server's settings. */
export interface HttpContext {
  /** The capture of the camera the request is for (the default one for the root paths). */
  readonly hub: FrameHub;
  readonly camera: HttpCamera;
  readonly cameras: HttpCameras;
  readonly registry: ClientRegistry;
  readonly metrics: ServerMetrics;
  /** Within a request: bounded per peer (LogLimiter), since a peer decides how often it is used. */
  readonly log: Logger;
  readonly logLimiter: LogLimiter;
  readonly serverName: string;
  readonly version: string;
  /** performance.now() when the server was created, for /status uptime. */
  readonly startedAt: number;
  /** The page without a token, rendered once. */
  readonly indexPage: string;
  /** The features' parts of the page, and the page's Content-Security-Policy allowing them. */
  readonly pageParts: PageParts;
  readonly indexCsp: string;
  /** What /status shows of a camera's features (recording, motion, h264). */
  readonly featureStatus: ((camera: string) => Record<string, unknown>) | undefined;
  readonly snapshotTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly access: AccessControl | undefined;
  /** Whether the server answers to a Host header without a token (allowedHosts). */
  readonly hostAllowed: (host: string | undefined) => boolean;
  readonly rateLimiter: HostRateLimiter | null;
  /** The open streams, so that closing the server can end them. */
  readonly viewers: Set<MjpegViewer>;
  /** Slots of the long-lived requests (streams, replays, WebRTC, events): --max-clients, --max-per-address. */
  readonly streams: StreamAdmission;
}
