// inspect() and repair() read files nobody vouches for: a copy cut short, a disk that returned
// garbage, a file that only claims to be an AVI. Whatever the bytes, they may fail only with a
// RecorderError (NOT_AVI, READ_FAILED), never with a RangeError from a bad offset or a size
// that makes them allocate what the file claims; and what repair writes is always a clean file.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecorderError, createRecorder, inspect, repair } from '../src/index.js';
import { captureTimeUs, makeJpegs, tempDir } from './helpers/frames.js';

let dir: string;
let cleanup: () => Promise<void>;
let oneRiff: Buffer;
let openDml: Buffer;

async function record(name: string, frames: Buffer[], riffThreshold?: number): Promise<Buffer> {
  const path = join(dir, name);
  const rec = createRecorder(path, { checkpointIntervalMs: 0, ...(riffThreshold ? { riffThreshold } : {}) });
  for (let i = 0; i < frames.length; i++) await rec.write({ seq: i, captureTimeUs: captureTimeUs(i), jpeg: frames[i]! });
  await rec.close();
  return readFile(path);
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('reader-properties'));
  const jpegs = await makeJpegs(16, '96x72');
  oneRiff = await record('one.avi', jpegs.slice(0, 5));
  openDml = await record('odml.avi', jpegs, 16 * 1024);
});
afterAll(() => cleanup());

/** Values that break naive readers when they land in a size, count or offset field. */
const nastyU32 = fc.constantFrom(0, 1, 2, 3, 4, 7, 8, 0x7fff_ffff, 0x8000_0000, 0xffff_fff8, 0xffff_ffff, 40_000, 1 << 30);

const FOURCCS = ['RIFF', 'LIST', 'avih', 'strh', 'strf', 'indx', 'odml', 'dmlh', 'movi', '00dc', 'idx1', 'ix00', 'JUNK', 'AVIX'];

/** Where each fourcc occurs: a field edit lands on its size or one of the first 16 u32s after it. */
function occurrences(b: Buffer, id: string): number[] {
  const out: number[] = [];
  for (let at = b.indexOf(id, 0, 'latin1'); at !== -1; at = b.indexOf(id, at + 4, 'latin1')) out.push(at);
  return out;
}

const edit = fc.oneof(
  fc.record({ kind: fc.constant('field' as const), at: fc.nat(), value: nastyU32, id: fc.constantFrom(...FOURCCS), word: fc.integer({ min: 1, max: 17 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: nastyU32 }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ kind: fc.constant('append' as const), at: fc.nat({ max: 64 }), value: fc.integer({ min: 0, max: 255 }) }),
);

type Edit = { kind: 'field' | 'u32' | 'byte' | 'cut' | 'append'; at: number; value: number; id?: string; word?: number };

function mutate(base: Buffer, edits: Edit[]): Buffer {
  let b = Buffer.from(base);
  for (const e of edits) {
    if (e.kind === 'field') {
      const found = occurrences(b, e.id!);
      const at = found.length > 0 ? found[e.at % found.length]! + 4 * e.word! : -1;
      if (at >= 0 && at + 4 <= b.length) b.writeUInt32LE(e.value, at);
      continue;
    }
    if (e.kind === 'append') {
      b = Buffer.concat([b, Buffer.alloc(e.at, e.value)]);
      continue;
    }
    if (b.length < 4) break;
    // Most structure lives in the first few hundred bytes: aim there half the time.
    const span = e.at % 2 === 0 ? Math.min(b.length, 512) : b.length;
    const at = Math.floor(e.at / 2) % span;
    if (e.kind === 'cut') b = b.subarray(0, at);
    else if (e.kind === 'byte') b[at] = e.value;
    else if (at + 4 <= b.length) b.writeUInt32LE(e.value, at - (at % 2));
  }
  return b;
}

let run = 0;

async function check(bytes: Buffer): Promise<boolean> {
  const input = join(dir, `in-${run}.avi`);
  const output = join(dir, `out-${run}.avi`);
  run++;
  await writeFile(input, bytes);
  try {
    for (const op of [() => inspect(input), () => repair(input, output, { riffThreshold: 16 * 1024 })]) {
      try {
        const result = await op();
        if ('output' in result) {
          // What repair writes must read back clean, with every frame it says it kept.
          const after = await inspect(result.output);
          expect(after).toMatchObject({ frames: result.frames, indexed: true, problems: [] });
        }
      } catch (err) {
        if (!(err instanceof RecorderError)) throw err;
        expect(['NOT_AVI', 'READ_FAILED']).toContain(err.code);
      }
    }
    return true;
  } finally {
    await rm(input, { force: true });
    await rm(output, { force: true });
  }
}

describe('inspect and repair on damaged files', () => {
  it.each([
    ['one RIFF', () => oneRiff],
    ['OpenDML RIFFs', () => openDml],
  ])('fail only with RecorderError and repair to a clean file, whatever the damage (%s, property)', async (_name, base) => {
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => check(mutate(base(), edits))),
      { numRuns: 200 },
    );
  });

  it('fall back to the first JPEG for the frame size when the header holds one no muxer can write', async () => {
    const damaged = Buffer.from(oneRiff);
    damaged.writeUInt32LE(0x8000_0000, oneRiff.indexOf('strf', 0, 'latin1') + 12); // biWidth
    const path = join(dir, 'huge-width.avi');
    await writeFile(path, damaged);
    const result = await repair(path, join(dir, 'huge-width-repaired.avi'));
    expect(await inspect(result.output)).toMatchObject({ frames: 5, width: 96, height: 72, indexed: true, problems: [] });
  });

  it('fail only with RecorderError on random bytes, with or without a RIFF AVI header (property)', async () => {
    const header = Buffer.from('RIFF\0\0\0\0AVI LIST', 'latin1');
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 600 }), (withHeader, random) =>
        check(withHeader ? Buffer.concat([header, Buffer.from(random)]) : Buffer.from(random)),
      ),
      { numRuns: 100 },
    );
  });
});
