// What HTTP viewers get while the camera is lost: the committed "NO SIGNAL" picture
// (no-signal-jpeg.ts), as a snapshot body or as a stream part about once a second. TCP clients
// never get it: legacy and v2 clients size their decoding on the first frame, so for them the
// stream just pauses.
import type { CapturedFrame } from '@edgecam/protocol';
import { nowUs } from '@edgecam/runtime';
import { NO_SIGNAL_JPEG } from './no-signal-jpeg.js';

export { NO_SIGNAL_JPEG, NO_SIGNAL_WIDTH, NO_SIGNAL_HEIGHT } from './no-signal-jpeg.js';

/** Response header marking the placeholder, so scripts can tell it from a real snapshot. */
export const NO_SIGNAL_HEADER = 'X-Edgecam-No-Signal';

/** How often a stream viewer gets the placeholder while there is no signal. */
export const NO_SIGNAL_INTERVAL_MS = 1000;

/** The placeholder as a frame for a stream viewer; seq 0 marks it as no capture's frame. */
export function noSignalFrame(): CapturedFrame {
  return { seq: 0, captureTimeUs: nowUs(), jpeg: NO_SIGNAL_JPEG };
}
