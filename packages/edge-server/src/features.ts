// The camera features and the server's services. The features are in the order their blocks appear in a config file and start on a camera
// (a feature may use one listed before it: recording and publish use h264). Adding a feature is a folder that
// exports a CameraFeature and one line here; see ARCHITECTURE.md.
import type { AnyCameraFeature } from './camera/feature.js';
import type { AnyServerService } from './camera/service.js';
import { discoveryService } from './discovery/discovery-service.js';
import { eventsService } from './events/events-service.js';
import { h264Feature } from './h264/h264-feature.js';
import { motionFeature, type MotionTuning } from './motion/motion-feature.js';
import { publishFeature } from './publish/publish-feature.js';
import { recordingFeature, type RecordingTuning } from './recording/recording-feature.js';
import { snapshotFeature } from './snapshot/snapshot-feature.js';

export const FEATURES = [motionFeature, h264Feature, recordingFeature, publishFeature, snapshotFeature] as const satisfies readonly AnyCameraFeature[];

/** What code (tests, benchmarks) may give the features besides their configuration. */
export type FeatureDeps = RecordingTuning & MotionTuning;

/** The server-wide services, each started once with its top-level block (camera/service.ts). */
export const SERVICES = [eventsService, discoveryService] as const satisfies readonly AnyServerService[];
