// Runs the features a camera's config asks for, in the list's order, and stops them in reverse;
// serves each feature's server-wide part over the cameras that run it. It knows features only
// as the FEATURES list and the CameraFeature contract.
import { merge, type Observable } from 'rxjs';
import type { CameraContext, CameraEvent } from '../contracts.js';
import { FEATURES, type FeatureDeps } from '../features.js';
import type { ObservedSeries } from '../metrics.js';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';
import type { SourceSpec } from '../sources/source-spec.js';
import { featureIsOn, type AnyCameraFeature, type FeatureInstance, type FeatureServeDeps, type PagePart, type ServedFeature } from './feature.js';
import type { Route } from '../http/route.js';

type Listed = (typeof FEATURES)[number];
type InstanceOf<F> = F extends { start(...args: never[]): Promise<infer I> } ? I : never;
type ConfigOf<F> = F extends { schema: { _zod: { output: infer C } } } ? C : never;

/** A camera's blocks, by feature key: null or absent where it has none. */
export type FeatureBlocks = { readonly [F in Listed as F['key']]?: ConfigOf<F> | null };

/** One camera's running features: each instance at its statusKey (absent when not configured). */
export type RunningFeatures = { readonly [F in Listed as F['statusKey']]?: InstanceOf<F> } & {
  readonly camera: string;
  /** The features' events merged (a detector's); undefined when none makes any. */
  readonly events$: Observable<CameraEvent> | undefined;
  /** Writes a time range of the camera's recording as a clip, when a running feature can (see FeatureInstance.writeClip). */
  readonly writeClip: FeatureInstance['writeClip'];
  /** The running features' states, as /status shows them under the camera. */
  status(): Record<string, unknown>;
  /** Stops them in the reverse of the list's order (publishers before the encoder they read). */
  close(): Promise<void>;
};

/** True when the blocks start a feature that runs ffmpeg. */
export function featuresNeedFfmpeg(blocks: FeatureBlocks): boolean {
  return (FEATURES as readonly AnyCameraFeature[]).some((f) => {
    const config = (blocks as Record<string, unknown>)[f.key];
    return featureIsOn(f, config) && f.needsFfmpeg(config);
  });
}

/**
 * Starts the features `blocks` turn on for `camera`, one after the other in the list's order (each
 * loads its code as it starts); ffmpeg must be given when featuresNeedFfmpeg(blocks).
 */
export async function startCameraFeatures(camera: CameraContext, blocks: FeatureBlocks, ffmpeg: ResolvedFfmpeg | null, tuning: FeatureDeps = {}, source?: SourceSpec): Promise<RunningFeatures> {
  const given = blocks as Readonly<Record<string, unknown>>;
  for (const f of FEATURES as readonly AnyCameraFeature[]) f.check?.(camera.name, given);
  const started: { feature: AnyCameraFeature; instance: FeatureInstance }[] = [];
  const byKey = new Map<string, FeatureInstance>();
  try {
    for (const feature of FEATURES as readonly AnyCameraFeature[]) {
      const config = given[feature.key];
      if (!featureIsOn(feature, config)) continue;
      const instance = await feature.start(camera, config, {
        ffmpeg: (need) => {
          if (!ffmpeg) throw new Error(`${need} of camera ${camera.name} needs ffmpeg, which was not resolved`);
          return ffmpeg;
        },
        source,
        instanceOf: <I extends FeatureInstance>(key: string) => byKey.get(key) as I | undefined,
        tuning,
      });
      started.push({ feature, instance });
      byKey.set(feature.key, instance);
    }
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.instance.close()));
    throw err;
  }
  const streams = started.flatMap((s) => (s.instance.events$ ? [s.instance.events$] : []));
  const clipper = started.find((s) => s.instance.writeClip)?.instance;
  let closing: Promise<void> | undefined;
  return {
    ...Object.fromEntries(started.map((s) => [s.feature.statusKey, s.instance])),
    camera: camera.name,
    events$: streams.length === 0 ? undefined : streams.length === 1 ? streams[0] : merge(...streams),
    writeClip: clipper?.writeClip?.bind(clipper),
    status: () => Object.fromEntries(started.map((s) => [s.feature.statusKey, s.instance.status()])),
    close: () =>
      (closing ??= (async () => {
        for (const s of [...started].reverse()) await s.instance.close();
      })()),
  } as RunningFeatures;
}

/** Every feature's part over the cameras that run it: routes, page parts and metrics. */
export interface ServedFeatures {
  readonly routes: readonly Route[];
  pageParts(withToken: (url: string) => string): PagePart[];
  /** The features' per-camera series, for metrics.observe. */
  readonly series: readonly ObservedSeries[];
  close(): Promise<void>;
}

/** Serves the features that run on at least one camera of `running`. */
export async function serveFeatures(running: ReadonlyMap<string, RunningFeatures>, deps: FeatureServeDeps): Promise<ServedFeatures> {
  const served: ServedFeature[] = [];
  const series: ObservedSeries[] = [];
  for (const feature of FEATURES as readonly AnyCameraFeature[]) {
    const instances = new Map<string, FeatureInstance>();
    for (const [camera, r] of running) {
      const instance = (r as unknown as Record<string, FeatureInstance | undefined>)[feature.statusKey];
      if (instance) instances.set(camera, instance);
    }
    for (const m of feature.metrics ?? []) {
      series.push({
        name: m.name,
        help: m.help,
        *read() {
          for (const [camera, instance] of instances) {
            const value = m.read(instance, camera);
            if (value !== undefined) yield [camera, value] as const;
          }
        },
      });
    }
    if (instances.size > 0 && feature.serve) served.push(await feature.serve(instances, deps));
  }
  return {
    routes: served.flatMap((s) => s.routes),
    pageParts: (withToken) => served.flatMap((s) => (s.page ? [s.page(withToken)] : [])),
    series,
    close: async () => {
      await Promise.all(served.map((s) => s.close?.()));
    },
  };
}
