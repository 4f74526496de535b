// The public API of @edgecam/discovery: announce an edgecam server on the LAN over mDNS/DNS-SD,
// browse for servers, resolve NAME.local. Test helpers for network namespaces are in './netns'.
export { announce, type AnnounceOptions, type Announcement } from './announce.js';
export { browse, resolve, type BrowseOptions, type Resolved } from './browse.js';
export type { DiscoveredServer } from './collector.js';
export { DiscoveryError, type DiscoveryErrorCode } from './errors.js';
export { localAddresses } from './interfaces.js';
export { EDGECAM_SERVICE, HTTP_SERVICE, MAX_LABEL_BYTES } from './names.js';
export { decodeEdgecamTxt, encodeEdgecamTxt, MAX_CAMERAS, MAX_TXT_BYTES, type EdgecamTxt } from './txt-record.js';
export { MAX_ADDRESSES, MAX_SERVERS, ServerCollector } from './collector.js';
