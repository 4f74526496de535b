// inspectMp4, repairMp4 and planMp4Join read files nobody vouches for: a copy cut short, a disk
// that returned garbage, a file that only claims to be an MP4. Whatever the bytes, they may fail
// only with a RecorderError, never with a RangeError from a bad offset or an allocation of what a
// size field claims; and what repairMp4 leaves always reads back whole, with the frames it kept.
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecorderError, createRecorder, inspectMp4, planMp4Join, readMp4Join, repairMp4 } from '../src/index.js';
import { tempDir } from './helpers/frames.js';
import { makeH264 } from './helpers/h264.js';

let dir: string;
let cleanup: () => Promise<void>;
let recording: Buffer;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mp4-reader-properties'));
  const units = await makeH264(20, { size: '96x64', gop: 5 });
  const path = join(dir, 'base.mp4');
  const rec = createRecorder(path, { checkpointIntervalMs: 0 });
  for (let i = 0; i < units.length; i++) await rec.write({ h264: units[i]!, captureTimeUs: 1.7e15 + i * 33_333 });
  await rec.close();
  recording = await readFile(path);
}, 60_000);
afterAll(() => cleanup());

/** Values that break naive readers when they land in a size, count or offset field. */
const nastyU32 = fc.constantFrom(0, 1, 2, 3, 7, 8, 16, 0x7fff_ffff, 0x8000_0000, 0xffff_fff8, 0xffff_ffff, 40_000, 1 << 30);

const BOX_TYPES = ['ftyp', 'moov', 'trak', 'tkhd', 'mdhd', 'hdlr', 'stsd', 'avc1', 'avcC', 'trex', 'moof', 'mfhd', 'traf', 'tfhd', 'tfdt', 'trun', 'mdat', 'mfra', 'tfra', 'mfro'];

type Edit = { kind: 'field' | 'u32' | 'byte' | 'cut' | 'append'; at: number; value: number; id?: string; word?: number };

const edit = fc.oneof(
  // A box's size (word -1), or one of the first 12 u32 fields after its type.
  fc.record({ kind: fc.constant('field' as const), at: fc.nat(), value: nastyU32, id: fc.constantFrom(...BOX_TYPES), word: fc.integer({ min: -1, max: 12 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: nastyU32 }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ kind: fc.constant('append' as const), at: fc.nat({ max: 64 }), value: fc.integer({ min: 0, max: 255 }) }),
);

function mutate(base: Buffer, edits: Edit[]): Buffer {
  let b = Buffer.from(base);
  for (const e of edits) {
    if (e.kind === 'field') {
      const found: number[] = [];
      for (let at = b.indexOf(e.id!, 0, 'latin1'); at !== -1; at = b.indexOf(e.id!, at + 4, 'latin1')) found.push(at);
      const at = found.length > 0 ? found[e.at % found.length]! + 4 * e.word! : -1;
      if (at >= 0 && at + 4 <= b.length) b.writeUInt32BE(e.value, at);
      continue;
    }
    if (e.kind === 'append') {
      b = Buffer.concat([b, Buffer.alloc(e.at, e.value)]);
      continue;
    }
    if (b.length < 4) break;
    // The boxes that describe everything are in the first kilobyte: aim there half the time.
    const span = e.at % 2 === 0 ? Math.min(b.length, 1024) : b.length;
    const at = Math.floor(e.at / 2) % span;
    if (e.kind === 'cut') b = b.subarray(0, at);
    else if (e.kind === 'byte') b[at] = e.value;
    else if (at + 4 <= b.length) b.writeUInt32BE(e.value, at);
  }
  return b;
}

let run = 0;

async function check(bytes: Buffer): Promise<boolean> {
  const input = join(dir, `in-${run}.mp4`);
  const copy = join(dir, `repair-${run}.mp4`);
  run++;
  await writeFile(input, bytes);
  await copyFile(input, copy);
  const allowed = (err: unknown): void => {
    if (!(err instanceof RecorderError)) throw err;
    expect(['NOT_MP4', 'READ_FAILED', 'SIZE_MISMATCH']).toContain(err.code);
  };
  try {
    await inspectMp4(input).catch(allowed);
    try {
      const plan = await planMp4Join([{ path: input }]);
      let n = 0;
      for await (const c of readMp4Join(plan)) n += c.length;
      expect(n).toBe(plan.size);
    } catch (err) {
      allowed(err);
    }
    try {
      const result = await repairMp4(copy);
      const after = await inspectMp4(copy);
      expect(after).toMatchObject({ frames: result.frames, indexed: true });
      expect(after.problems.filter((p) => p.code !== 'NOT_FRAGMENTED')).toEqual([]);
    } catch (err) {
      allowed(err);
    }
    return true;
  } finally {
    await rm(input, { force: true });
    await rm(copy, { force: true });
  }
}

describe('inspectMp4, repairMp4 and planMp4Join on damaged files', () => {
  it('fail only with RecorderError, and a repair reads back whole, whatever the damage (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => check(mutate(recording, edits))), { numRuns: 300 });
  }, 120_000);

  it('fail only with RecorderError on random bytes, with or without an ftyp header (property)', async () => {
    const header = Buffer.from('\0\0\0\x10ftypisom\0\0\0\0', 'latin1');
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 600 }), (withHeader, random) => check(withHeader ? Buffer.concat([header, Buffer.from(random)]) : Buffer.from(random))),
      { numRuns: 100 },
    );
  });
});
