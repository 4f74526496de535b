/**
 * What the recorder needs from a one-file writer (AVI, raw MJPEG or MP4), and what a closed file
 * reports.
 */
import type { WriteHold } from './write-queue.js';
import type { RecorderError } from './errors.js';
import type { FrameInfo } from './frame-format.js';
import type { RecorderFs } from './file-system.js';
import type { FrameRate } from './frame-rate.js';

export type RecordingFormat = 'avi' | 'mjpeg' | 'mp4';

export interface FileSummary {
  readonly path: string;
  readonly format: RecordingFormat;
  /** 1-based segment number of this file in its recording. */
  readonly segment: number;
  /** Frames in the file as closed (after a write error: the ones that reached the disk). */
  readonly frames: number;
  /** Size of the file in bytes. */
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  /** The rate written in the file (AVI) or measured (MJPEG and MP4, whose frames carry their own times). */
  readonly frameRate: FrameRate;
  /** AVI and MJPEG: frames over the rate; MP4: from the first frame's time to the end of the last. */
  readonly durationSeconds: number;
  /** RIFFs in the AVI (1 below the RIFF threshold, more in OpenDML); 0 for MJPEG and MP4. */
  readonly riffs: number;
  /** MP4: its moof+mdat fragments. */
  readonly fragments?: number;
  /** Set when a write error closed the file early. */
  readonly error?: RecorderError;
}

export interface FileWriterHooks {
  onOpened(): void;
  /** Queued bytes went down: blocked writers may go on. */
  onProgress(): void;
  /** A write failed; the writer is closing the file with what reached the disk. */
  onFailure(error: RecorderError): void;
}

export interface FileWriterOptions {
  readonly path: string;
  readonly segment: number;
  readonly fs: RecorderFs;
  /** datasync at checkpoints and at close. */
  readonly fsync: boolean;
  /** A rate fixed by the caller; otherwise it is measured from the frames' timestamps. */
  readonly frameRate: FrameRate | undefined;
  /** AVI: start an OpenDML AVIX RIFF before a RIFF would pass this many bytes. */
  readonly riffThreshold: number;
  /** Let frames wait to be written in batches (the recorder's writeDelayMs); undefined: at once. */
  readonly hold?: WriteHold | undefined;
  readonly hooks: FileWriterHooks;
}

export interface FrameFileWriter {
  readonly path: string;
  readonly frames: number;
  /** Frame bytes queued in memory, not yet written. */
  readonly pendingBytes: number;
  readonly pendingFrames: number;
  /** Timestamp (µs) of the file's first frame. */
  readonly firstTimeUs: number | undefined;
  readonly failure: RecorderError | undefined;
  /** Size the file would have once closed, if a frame of `frameBytes` were added. */
  sizeWith(frameBytes: number): number;
  /** Queue a validated frame. Throws RecorderError TOO_LARGE when the file cannot hold it. */
  append(frame: Uint8Array, info: FrameInfo, timeUs: number | undefined): void;
  /** Queue the patches that make what is on disk a playable file. */
  checkpoint(): void;
  /** flush(): queue frames the writer still holds back in memory (MP4: a fragment being gathered). */
  release?(): void;
  /** Resolves when everything queued is written (rejects after a write error). */
  drain(): Promise<void>;
  /** Finish the file (index, sizes); always resolves, with `error` set after a write error. */
  close(): Promise<FileSummary>;
}
