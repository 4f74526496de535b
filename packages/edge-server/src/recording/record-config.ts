// The `record:` block of a camera: where segments go, how long each is, and what is kept.
// Durations and sizes are written as people write them (`10m`, `7d`, `20GB`, or a bare number of
// seconds); zod turns them into milliseconds and bytes, and a bad one names the valid forms.
// Defaults are given as input (prefault) so they pass through the same parsing.
import { z } from 'zod';
import { duration, size } from '../config/units.js';

export { parseDuration, parseSize } from '../config/units.js';

export const RECORD_DEFAULTS = {
  segment: '10m',
  maxAge: '7d',
  maxSize: '20GB',
  minFree: '1GB',
  motionOnlyAfter: '1d',
  preRoll: '5s',
  postRoll: '5s',
} as const;

/**
 * What is kept: segments older than maxAge, past maxSize in total, or eating into minFree go,
 * oldest first. With mode motion, what had no motion (plus the rolls) goes once past motionOnlyAfter.
 */
export const keepSchema = z.strictObject({
  maxAge: duration({ min: 1000 }).prefault(RECORD_DEFAULTS.maxAge).describe('delete segments older than this (7d)'),
  maxSize: size({ min: 1024 * 1024 }).prefault(RECORD_DEFAULTS.maxSize).describe('keep at most this much per camera (20GB)'),
  minFree: size().prefault(RECORD_DEFAULTS.minFree).describe('never let the disk\'s free space fall below this (1GB)'),
  mode: z
    .enum(['all', 'motion'])
    .default('all')
    .describe("all: keep every segment until maxAge; motion: past motionOnlyAfter keep only the motion events' stretches plus preRoll and postRoll (needs motion:)"),
  motionOnlyAfter: duration().prefault(RECORD_DEFAULTS.motionOnlyAfter).describe('with mode motion, footage older than this keeps only its motion stretches (1d)'),
  preRoll: duration().prefault(RECORD_DEFAULTS.preRoll).describe('with mode motion, also keep this much before each motion event (5s)'),
  postRoll: duration().prefault(RECORD_DEFAULTS.postRoll).describe('with mode motion, also keep this much after each motion event (5s)'),
});

/** A camera's `record:` block. */
export const recordConfigSchema = z.strictObject({
  dir: z.string().min(1).describe('directory of the recordings; each camera gets a subdirectory named after it'),
  format: z
    .enum(['avi', 'mp4'])
    .default('avi')
    .describe("avi: the camera's JPEGs as MJPEG AVI; mp4: its H.264 (needs h264: {enabled: true}) as fragmented MP4, about 20x smaller"),
  segment: duration({ min: 1000 }).prefault(RECORD_DEFAULTS.segment).describe('length of one file (10m; an MP4 segment ends at the next keyframe after it)'),
  keep: keepSchema.prefault({}),
});

/** As written in the config file. */
export type RecordConfigInput = z.input<typeof recordConfigSchema>;
/** Parsed: durations in ms, sizes in bytes. */
export type RecordConfig = z.output<typeof recordConfigSchema>;
