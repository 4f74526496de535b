// The contract of a camera feature (recording, motion, H.264, publishing, …): one folder exports
// one module of this shape and features.ts lists it. The core (config, cameras, metrics, the HTTP
// router and the pages) iterates that list and never names a feature. Like go2rtc's
// internal/<feature>: its own config block, its own start on a camera, its own routes.
import type { Observable } from 'rxjs';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { AccessControl } from '../access/access-control.js';
import type { CameraContext, CameraEvent, ClientRegistry } from '../contracts.js';
import type { PagePart } from '../http/page-part.js';
import type { Route } from '../http/route.js';

export type { PagePart } from '../http/page-part.js';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';
import type { SourceSpec } from '../sources/source-spec.js';

/** What one feature runs on one camera. */
export interface FeatureInstance {
  /** What /status shows under the camera, at the feature's statusKey. */
  status(): unknown;
  /** Events this feature produces (a detector); they go through the server's event bus. */
  readonly events$?: Observable<CameraEvent>;
  /**
   * Writes [fromMs, toMs] (Unix ms) of what it recorded as one file at `path`: a recording of
   * MP4 joins its H.264 segments. Event clips are made this way when a feature offers it.
   */
  writeClip?(fromMs: number, toMs: number, path: string): Promise<void>;
  /** Stops it; the runner closes a camera's features in the reverse of the list's order. */
  close(): Promise<void>;
}

/** One Prometheus series a feature contributes, with the label `camera`. */
export interface FeatureMetric<I> {
  readonly name: string;
  readonly help: string;
  /** The figure at scrape time; undefined: no sample for this camera. */
  read(instance: I, camera: string): number | undefined;
}

/** What a feature's start gets besides its camera and its config. */
export interface FeatureStartDeps {
  /** The one ffmpeg, when some feature or source needs it; `need` says who needs it if it is missing. */
  ffmpeg(need: string): ResolvedFfmpeg;
  /** The camera's source as configured; undefined when code gave the frames (benchmarks, tests). */
  readonly source: SourceSpec | undefined;
  /** The instance of the feature with this key started before this one on the same camera (the list's order), or undefined. */
  instanceOf<I extends FeatureInstance>(key: string): I | undefined;
  /** Per-feature settings code may give (tests), by feature key. */
  readonly tuning: object;
}

/** What a feature's server-wide part gets: every camera's instance and the server's parts. */
export interface FeatureServeDeps {
  readonly registry: ClientRegistry;
  readonly access: AccessControl;
  readonly logger: Logger;
  readonly maxClients: number;
}

/** A feature's part spanning cameras: its HTTP routes and its piece of the page. */
export interface ServedFeature {
  readonly routes: readonly Route[];
  /** The page's part, rendered with and without the token. */
  page?(withToken: (url: string) => string): PagePart;
  close?(): Promise<void>;
}

/** One camera feature: the module its folder exports. */
export interface CameraFeature<C, I extends FeatureInstance, S extends string = string, K extends string = string> {
  /** Its config block's key, per camera and at the top level (`record:`). */
  readonly key: K;
  /** Its key under the camera in /status (`recording`), and its instance's in RunningFeatures. */
  readonly statusKey: S;
  /** The block's schema, described for the JSON Schema; the runtime config is its output. */
  readonly schema: z.ZodType<C>;
  /** Whether a given block turns the feature on (h264 has `enabled: false`); default: present is on. */
  isOn?(config: C): boolean;
  /** Whether it runs ffmpeg with this config. */
  needsFfmpeg(config: C): boolean;
  /** Refuses a camera whose blocks do not go together (publish: needs h264:), with the fix. */
  check?(camera: string, blocks: Readonly<Record<string, unknown>>): void;
  /**
   * Runs it on one camera. What it runs is loaded here (`await import('./its-runner.js')`), not
   * at the top of the feature's module: a feature no camera turns on loads nothing but its
   * schema, so a small board does not pay for WebRTC, the recorder or the detector it never uses.
   */
  start(camera: CameraContext, config: C, deps: FeatureStartDeps): Promise<I>;
  readonly metrics?: readonly FeatureMetric<I>[];
  /** The part over every camera that runs it; called once, with those cameras' instances. Loads its routes here too, like start. */
  serve?(instances: ReadonlyMap<string, I>, deps: FeatureServeDeps): Promise<ServedFeature>;
}

/** A feature of any config and instance, as lists hold them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCameraFeature = CameraFeature<any, any>;

/** Whether `config` (a camera's block for `feature`, or null) turns it on. */
export function featureIsOn(feature: AnyCameraFeature, config: unknown): boolean {
  if (config === null || config === undefined) return false;
  return feature.isOn ? feature.isOn(config) : true;
}
