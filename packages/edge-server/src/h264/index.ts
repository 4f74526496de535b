// The H.264 feature's public pieces, as `@edgecam/edge-server/h264` (the package's main entry
// leaves WebRTC out, so importing it does not load werift).
export { h264EncoderArgs } from './h264-args.js';
export { h264ConfigSchema, type H264Config } from './h264-config.js';
export { H264Hub, type H264HubOptions, type H264HubStats } from './h264-hub.js';
export { h264VideoElement, H264_PLAYER_SCRIPT } from './h264-player.js';
export { H264Routes, type H264RoutesOptions } from './h264-routes.js';
