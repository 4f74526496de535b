// The public API of @edgecam/runtime: what edgecam's server and client share that is not wire
// format (that is @edgecam/protocol). The RxJS operator lives in the './rx' subpath.
export { NewestWins, type NewestWinsOptions } from './newest-wins.js';
export { backoffDelay } from './backoff.js';
export { nowUs } from './clock.js';
export { describeSystemError } from './system-error.js';
export { TOKEN_EXPECT, TOKEN_PATTERN } from './token.js';
export { SWITCH_EXPECT, parseSwitch } from './switch.js';
export { escapeHtml } from './escape-html.js';
export { listen } from './listen.js';
export { parseFingerprint } from './fingerprint.js';
export { looksLikeText } from './looks-like-text.js';
export { packageVersion } from './package-version.js';
