export { RecorderError, type RecorderErrorCode } from './errors.js';
export {
  createRecorder,
  type Recorder,
  type RecorderEvent,
  type RecorderFrame,
  type RecorderOptions,
  type RecorderStats,
  type RecordingSummary,
  type SegmentOptions,
} from './recorder.js';
export { recordTo, type RecordToOptions } from './record-to.js';
export type { FileSummary, RecordingFormat } from './file-writer.js';
export type { FrameRate } from './frame-rate.js';
export type { RecorderFs, RecorderFileHandle } from './file-system.js';
export { inspect, type AviInspection, type AviProblem, type AviProblemCode } from './inspect.js';
export { repair, type RepairOptions, type RepairResult } from './repair.js';
export { readAviIndex, type AviFrameIndex, type AviFrameRef } from './avi-index.js';
