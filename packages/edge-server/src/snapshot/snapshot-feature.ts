// Timed snapshots as a camera feature: `snapshot: {dir, every, keep}` saves a JPEG of the camera
// every so often into dir/NAME/, keeping the newest. Added as this folder and one line in
// features.ts, nothing else (ARCHITECTURE.md).
import type { CameraFeature } from '../camera/feature.js';
import { snapshotConfigSchema, type SnapshotConfig } from './snapshot-config.js';
import type { RunningSnapshots } from './timed-snapshots.js';

export const snapshotFeature: CameraFeature<SnapshotConfig, RunningSnapshots, 'snapshot', 'snapshot'> = {
  key: 'snapshot',
  statusKey: 'snapshot',
  schema: snapshotConfigSchema.describe('save a JPEG of this camera every so often into dir/NAME/, keeping the newest (keep:)'),
  needsFfmpeg: () => false,
  start: async (camera, config) => {
    const { startSnapshots } = await import('./timed-snapshots.js');
    return startSnapshots(camera, config);
  },
  metrics: [{ name: 'edgecam_snapshots_saved', help: 'Pictures saved by snapshot: since start, per camera.', read: (s) => s.status().saved }],
};
