// Continuous recording as a camera feature: `record:` per camera, the recordings over HTTP
// (/recordings, the page, downloads, replay) over every camera that records.
import type { CameraFeature } from '../camera/feature.js';
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
  start: async (camera, config, deps) => {
    const { startRecording } = await import('./recording-sink.js');
    return startRecording(camera, config, (deps.tuning as RecordingTuning).recording);
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
