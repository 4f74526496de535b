export { RecorderError, type RecorderErrorCode } from './errors.js';
export {
  createRecorder,
  type H264Frame,
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
export { Mp4Muxer, type Mp4Chunk, type Mp4MuxerOptions } from './mp4-muxer.js';
export {
  inspectMp4,
  repairMp4,
  type Mp4FragmentInfo,
  type Mp4Inspection,
  type Mp4Problem,
  type Mp4ProblemCode,
  type Mp4RepairResult,
} from './mp4-inspect.js';
export {
  joinMp4,
  planMp4Join,
  readMp4Join,
  writeMp4Join,
  type Mp4JoinInput,
  type Mp4JoinOptions,
  type Mp4JoinPart,
  type Mp4JoinPlan,
} from './mp4-join.js';
