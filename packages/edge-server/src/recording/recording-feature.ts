// Continuous recording as a camera feature: `record:` per camera, the recordings over HTTP
// (/recordings, the page, downloads, replay) over every camera that records. With `format: mp4`
// it records the camera's H.264 feature's encoder (listed before it), not a second encode; with
// motion detection (listed before it too) it learns the stretches with motion from its events.
import type { CameraFeature } from '../camera/feature.js';
import { EdgeServerError } from '../errors.js';
import type { H264Instance } from '../h264/h264-feature.js';
import type { RecordingDeps, RecordingHandle } from './recording-sink.js';
import { recordConfigSchema, type RecordConfig } from './record-config.js';

/** What code (tests) may give the recordings besides their config: `features: { recording: … }`. */
export interface RecordingTuning {
  recording?: RecordingDeps;
}

export const recordingFeature: CameraFeature<RecordConfig, RecordingHandle, 'recording', 'record'> = {
  key: 'record',
  statusKey: 'recording',
  schema: recordConfigSchema.describe('record this camera around the clock into dir/NAME/, with retention (keep:)'),
  needsFfmpeg: () => false,
  // MP4 is the H.264 encoder's output: refused with the fix rather than recorded as nothing.
  check: (camera, blocks) => {
    const record = blocks.record as RecordConfig | null | undefined;
    const h264 = blocks.h264 as { enabled?: boolean } | null | undefined;
    if (record?.format === 'mp4' && !h264?.enabled) {
      throw new EdgeServerError('CONFIG_INVALID', `camera ${camera}: record.format mp4 records the camera's H.264, which is off; add h264: {enabled: true} to the camera, or set record.format: avi`);
    }
    if (record?.keep.mode === 'motion' && !blocks.motion) {
      throw new EdgeServerError('CONFIG_INVALID', `camera ${camera}: record.keep.mode motion keeps the stretches its motion detection finds, which is off; add motion: {} to the camera, or set record.keep.mode: all`);
    }
  },
  start: async (camera, config, deps) => {
    const h264 = config.format === 'mp4' ? deps.instanceOf<H264Instance>('h264') : undefined;
    if (config.format === 'mp4' && !h264) throw new EdgeServerError('CONFIG_INVALID', `camera ${camera.name}: record.format mp4 needs h264: {enabled: true}`);
    // Motion is listed before recording: its events say which stretches keep.mode motion keeps.
    const motion$ = deps.instanceOf('motion')?.events$;
    const { startRecording } = await import('./recording-sink.js');
    return startRecording(camera, config, (deps.tuning as RecordingTuning).recording, h264?.hub.units$, motion$);
  },
  metrics: [
    { name: 'edgecam_recording_frames_written', help: 'Frames written to recordings since start, per camera.', read: (r) => r.status().framesWritten },
    { name: 'edgecam_recording_frames_dropped', help: 'Frames not recorded (starting, disk full, refused) since start, per camera.', read: (r) => r.status().framesDropped },
  ],
  serve: async (recordings, deps) => {
    const { recordingsRoutes, RECORDINGS_PAGE_PATH } = await import('./recordings-routes.js');
    return {
      routes: recordingsRoutes({
        store: (name) => recordings.get(name)?.store,
        cameras: () => [...recordings.keys()],
        access: deps.access,
        log: deps.logger.child({ component: 'recordings' }),
      }).routes,
      page: (withToken) => ({ links: [{ href: withToken(RECORDINGS_PAGE_PATH.slice(1)), label: 'Recordings' }] }),
    };
  },
};
