// H.264 as a camera feature: `h264: {enabled: true}` gives the camera one shared encoder (or the
// source's own H.264, `encoder: copy`), WebRTC viewers over WHEP, live MP4 at stream.mp4, and the
// player that plays the camera's views on the page.
import type { CameraFeature, FeatureInstance } from '../camera/feature.js';
import { h264ConfigSchema, type H264Config } from './h264-config.js';
import type { H264Hub, H264HubStats } from './h264-hub.js';

/** A camera's encoder, and its WebRTC viewers once the routes are served. */
export interface H264Instance extends FeatureInstance {
  readonly hub: H264Hub;
  status(): H264HubStats;
  /** WebRTC viewers of this camera now; counted by the routes once they are served. */
  viewers: () => number;
  /** stream.mp4 viewers of this camera now, likewise. */
  mp4Viewers: () => number;
}

export const h264Feature: CameraFeature<H264Config, H264Instance, 'h264', 'h264'> = {
  key: 'h264',
  statusKey: 'h264',
  schema: h264ConfigSchema.describe('an H.264 encoder for WebRTC (WHEP) viewers; enabled: true turns it on'),
  isOn: (config) => config.enabled,
  needsFfmpeg: (config) => config.enabled,
  start: async (camera, config, deps) => {
    const { H264Hub } = await import('./h264-hub.js');
    const hub = new H264Hub(camera, config, { ffmpeg: deps.ffmpeg('the H.264 encoder'), ...(deps.source ? { source: deps.source } : {}) });
    return { hub, status: () => hub.stats(), close: () => hub.close(), viewers: () => 0, mp4Viewers: () => 0 };
  },
  metrics: [
    { name: 'edgecam_h264_frames_encoded', help: 'H.264 access units out of the encoder since start, per camera.', read: (h) => h.status().units },
    { name: 'edgecam_h264_frames_skipped', help: 'Camera frames not given to a busy H.264 encoder since start, per camera.', read: (h) => h.status().inputDropped },
    { name: 'edgecam_webrtc_viewers', help: 'WebRTC (WHEP) viewers now, per camera.', read: (h) => h.viewers() },
    { name: 'edgecam_mp4_viewers', help: 'Live MP4 (stream.mp4) viewers now, per camera.', read: (h) => h.mp4Viewers() },
  ],
  serve: async (instances, deps) => {
    // Loaded only when a camera offers H.264: WebRTC (werift) is a large part of the server's memory.
    const [{ H264Routes }, { H264_PLAYER_SCRIPT }] = await Promise.all([import('./h264-routes.js'), import('./h264-player.js')]);
    const routes = new H264Routes({ hubOf: (name) => instances.get(name)?.hub, registry: deps.registry, maxClients: deps.maxClients, logger: deps.logger });
    for (const [name, instance] of instances) {
      instance.viewers = () => routes.viewersOf(name);
      instance.mp4Viewers = () => routes.mp4ViewersOf(name);
    }
    return {
      routes: routes.routes,
      close: () => routes.close(),
      // The viewer page plays these cameras' views (main view, tiles) with the player: WebRTC, then stream.mp4.
      page: () => ({ script: H264_PLAYER_SCRIPT, plays: [...instances.keys()] }),
    };
  },
};
