// Publishing as a camera feature: `publish:` pushes the camera's H.264 (its h264 feature's
// encoder) to media engines over RTSP, RTMP or SRT.
import type { CameraFeature } from '../camera/feature.js';
import { EdgeServerError } from '../errors.js';
import type { H264Instance } from '../h264/h264-feature.js';
import { publishConfigSchema, type PublishConfig } from './publish-config.js';
import type { RunningPublishing } from './start-publishing.js';

export const publishFeature: CameraFeature<PublishConfig, RunningPublishing, 'publish', 'publish'> = {
  key: 'publish',
  statusKey: 'publish',
  schema: publishConfigSchema.describe("push this camera's H.264 to these rtsp:// or rtmp:// URLs (needs h264: {enabled: true})"),
  isOn: (targets) => targets.length > 0,
  needsFfmpeg: (targets) => targets.length > 0,
  // It pushes the H.264 output, so it needs one: refused with the fix rather than ignored.
  check: (camera, blocks) => {
    const targets = blocks.publish as PublishConfig | null | undefined;
    const h264 = blocks.h264 as { enabled?: boolean } | null | undefined;
    if (targets && targets.length > 0 && !h264?.enabled) {
      throw new EdgeServerError('CONFIG_INVALID', `camera ${camera}: publish: pushes the camera's H.264, which is off; add h264: {enabled: true} to the camera (or remove publish:)`);
    }
  },
  start: async (camera, targets, deps) => {
    const h264 = deps.instanceOf<H264Instance>('h264');
    if (!h264) throw new EdgeServerError('CONFIG_INVALID', `camera ${camera.name}: publish: needs h264: {enabled: true}`);
    const { startPublishing } = await import('./start-publishing.js');
    return startPublishing(camera, h264.hub, targets, { ffmpeg: deps.ffmpeg('publishing'), logger: camera.logger });
  },
  metrics: [
    { name: 'edgecam_publish_bytes', help: 'H.264 bytes handed to the publish: targets since start, all targets of the camera together.', read: (p) => p.status().reduce((n, t) => n + t.bytes, 0) },
    { name: 'edgecam_publish_targets_up', help: 'publish: targets the camera is publishing to now (the others are connecting, retrying or failed).', read: (p) => p.status().filter((t) => t.state === 'publishing').length },
  ],
};
