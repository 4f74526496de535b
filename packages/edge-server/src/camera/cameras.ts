// The server's cameras: one shared capture (SharedFrameHub) each, started on demand, and the
// registry that finds them by name. The first camera is the default: root paths, legacy clients
// on the main port and v2 clients that name none get it.
import type { Logger } from 'pino';
import type { CameraConfig } from '../config/camera-config.js';
import { SETTINGS_CHANGE_SCHEMA, type CameraSettings, type SettingsChange, type SettingsLimits } from './camera-settings.js';
import type { CameraContext } from '../contracts.js';
import { EdgeServerError } from '../errors.js';
import { SharedFrameHub, type SourceChange } from './frame-hub.js';
import type { EdgeServerMetrics } from '../metrics.js';
import type { FrameSource } from '../sources/source.js';

export { SETTINGS_CHANGE_SCHEMA, type CameraSettings, type SettingsChange, type SettingsLimits } from './camera-settings.js';

/** Makes a camera's source for its settings; null: the source cannot be made anew (stdin, a source given by code). */
export type SourceMaker = ((settings: CameraSettings) => FrameSource) | null;

/** One camera: its name, its shared capture, a logger that names it, and its settings. */
export class Camera implements CameraContext {
  readonly name: string;
  readonly hub: SharedFrameHub;
  readonly logger: Logger;
  /** A TCP port serving this camera alone; null: none. */
  readonly legacyPort: number | null;
  private current: CameraSettings;
  private readonly ceiling: SettingsLimits;
  private readonly make: SourceMaker;

  constructor(config: CameraConfig, deps: { logger: Logger; metrics: EdgeServerMetrics; make: SourceMaker; first: FrameSource; onSourceEnded?: (err: Error) => void }) {
    this.name = config.name;
    this.logger = deps.logger.child({ camera: config.name });
    this.legacyPort = config.legacyPort;
    this.current = { ...config.size, fps: config.fps, quality: config.quality };
    const maxSize = config.maxSize ?? config.size;
    this.ceiling = { maxWidth: maxSize.width, maxHeight: maxSize.height, maxFps: config.maxFps ?? config.fps };
    this.make = deps.make;
    this.hub = new SharedFrameHub(deps.first, {
      logger: this.logger,
      idleStopMs: config.idleStop * 1000,
      alwaysOn: config.alwaysOn,
      metrics: deps.metrics.forCamera(config.name),
      onSourceEnded: deps.onSourceEnded,
    });
  }

  /**
   * The settings the capture runs (or will run) with. A network camera (http, tcp, edgecam) sends
   * the size it chooses, so its size is what its frames say once they come (the configured one before).
   */
  settings(): CameraSettings {
    const info = this.hub.info();
    if (info.kind !== 'http' && info.kind !== 'tcp' && info.kind !== 'edgecam') return { ...this.current };
    return { ...this.current, width: info.width, height: info.height };
  }

  /** The most applySettings takes. */
  limits(): SettingsLimits {
    return { ...this.ceiling };
  }

  /** The newest settings change and the gap in frames it caused; null before any. */
  lastChange(): SourceChange | null {
    return this.hub.lastChange();
  }

  /**
   * Restarts the capture with the settings changed; viewers stay connected and see a short gap.
   * Throws SETTINGS_FIXED for a source that cannot be started anew (stdin, a source given by code),
   * SETTINGS_ABOVE_LIMIT for a size or rate above the camera's maxSize or maxFps.
   */
  applySettings(change: SettingsChange): CameraSettings {
    if (!this.make) throw new EdgeServerError('SETTINGS_FIXED', `camera ${this.name} reads a source whose settings cannot be changed (${this.hub.info().spec})`);
    const next: CameraSettings = { ...this.current, ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) };
    const { maxWidth, maxHeight, maxFps } = this.ceiling;
    if (next.width > maxWidth || next.height > maxHeight) {
      throw new EdgeServerError(
        'SETTINGS_ABOVE_LIMIT',
        `${next.width}x${next.height} is above camera ${this.name}'s maxSize ${maxWidth}x${maxHeight}; to allow more, raise maxSize in the config file (cameras.${this.name}.maxSize, or maxSize / --max-size for every camera)`,
      );
    }
    if (next.fps > maxFps) {
      throw new EdgeServerError(
        'SETTINGS_ABOVE_LIMIT',
        `fps ${next.fps} is above camera ${this.name}'s maxFps ${maxFps}; to allow more, raise maxFps in the config file (cameras.${this.name}.maxFps, or maxFps / --max-fps for every camera)`,
      );
    }
    // Made before anything changes: a source that cannot be made leaves the camera as it was.
    const source = this.make(next);
    this.current = next;
    this.logger.info({ settings: next }, 'settings changed');
    this.hub.replaceSource(source);
    return this.settings();
  }
}

/** The cameras by name, the default first. */
export class CameraRegistry {
  private readonly byName: Map<string, Camera>;

  constructor(cameras: readonly Camera[]) {
    if (cameras.length === 0) throw new Error('CameraRegistry: no cameras');
    this.byName = new Map(cameras.map((c) => [c.name, c]));
  }

  /** The camera of the root paths, of legacy clients on the main port and of v2 clients that name none. */
  get default(): Camera {
    return this.byName.values().next().value as Camera;
  }

  get(name: string): Camera | undefined {
    return this.byName.get(name);
  }

  /** Every name, the default first. */
  names(): string[] {
    return [...this.byName.keys()];
  }

  list(): Camera[] {
    return [...this.byName.values()];
  }

  /** Stops every capture and waits for their processes. */
  async close(): Promise<void> {
    await Promise.all(this.list().map((c) => c.hub.close()));
  }
}
