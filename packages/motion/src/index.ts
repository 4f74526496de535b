// The public API of @edgecam/motion.
export { MotionDetector, type GrayFrame, type MotionEvent, type MotionSample } from './detector.js';
export { DEFAULT_MOTION_OPTIONS, resolveMotionOptions, type MotionMask, type MotionOptions } from './options.js';
