/**
 * An MP4 recording stopped at any moment: the file as it stands after any number of bytes of the
 * recorder's writes (what a kill at that moment leaves), and a child process SIGKILLed while it
 * records. Each plays in ffprobe without an error, with exactly the frames inspectMp4 lists;
 * repairMp4 then adds the index without losing one.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { createRecorder, inspectMp4, repairMp4 } from '../src/index.js';
import { transpileSources } from './helpers/child-build.js';
import { probe } from './helpers/ffprobe.js';
import { tempDir } from './helpers/frames.js';
import { makeH264 } from './helpers/h264.js';
import { sleep } from './helpers/sleep.js';
import { WriteLog } from './helpers/write-log.js';

const noFfprobe = missingPlayer('ffprobe');
let units: Buffer[];
let dir: string;
let childEntry: string;
let cleanup: () => Promise<void>;
afterAll(() => cleanup());

beforeAll(async () => {
  units = await makeH264(90);
  ({ dir, cleanup } = await tempDir('mp4-crash'));
  const unitDir = join(dir, 'units');
  await mkdir(unitDir);
  await Promise.all(units.map((u, i) => writeFile(join(unitDir, `u${String(i).padStart(4, '0')}.h264`), u)));
  const index = await transpileSources(join(dir, 'child-src'));
  childEntry = join(dir, 'record-forever.mjs');
  // Records the test pictures in a loop at about 30 fps, printing each accepted picture's count, until killed.
  await writeFile(childEntry, `
    import { readdirSync, readFileSync } from 'node:fs';
    import { join } from 'node:path';
    import { createRecorder } from ${JSON.stringify(pathToFileURL(index).href)};
    const [out, unitDir] = process.argv.slice(2);
    const units = readdirSync(unitDir).sort().map((n) => readFileSync(join(unitDir, n)));
    const rec = createRecorder(out, { checkpointIntervalMs: 200 });
    for (let i = 0; ; i++) {
      await rec.write({ seq: i, h264: units[i % units.length], captureTimeUs: 1.7e15 + Math.round(i * 1e6 / 30) });
      process.stdout.write(i + 1 + '\\n');
      await new Promise((r) => setTimeout(r, 10));
    }
  `);
}, 60_000);

describe.skipIf(noFfprobe)(titled('an MP4 cut at any byte of its writes', noFfprobe), () => {
  it('plays the whole fragments before the cut, without an error, exactly as inspectMp4 lists them', async () => {
    const log = new WriteLog();
    const rec = createRecorder('/log/rec.mp4', { fs: log, checkpointIntervalMs: 0 });
    for (let i = 0; i < 90; i++) await rec.write({ h264: units[i]!, captureTimeUs: 1.7e15 + i * 33_333 });
    await rec.close();
    const initBytes = log.writes[0]!.bytes.length;
    // Every write boundary and a byte either side, and offsets inside the writes.
    const cuts = new Set<number>();
    let end = 0;
    for (const w of log.writes) {
      for (const d of [-1, 0, 1, 5]) cuts.add(end + d);
      end += w.bytes.length;
      for (const f of [0.25, 0.5, 0.9]) cuts.add(Math.round(end - w.bytes.length * (1 - f)));
    }
    let checked = 0;
    let seen = -1;
    for (const cut of [...cuts].filter((c) => c >= initBytes && c <= log.total).sort((a, b) => a - b)) {
      const path = join(dir, `cut-${cut}.mp4`);
      await writeFile(path, log.fileAfter(cut));
      const [info, p] = await Promise.all([inspectMp4(path), probe(path)]);
      expect(p.errors, `cut at ${cut}`).toBe('');
      expect(p.frames, `cut at ${cut}`).toBe(info.frames);
      expect(info.frames % 30, `cut at ${cut}: whole fragments only`).toBe(0);
      expect(info.frames).toBeGreaterThanOrEqual(seen); // a later cut never has fewer
      seen = info.frames;
      for (const problem of info.problems) expect(['UNFINISHED', 'TRUNCATED', 'MISSING_INDEX'], `cut at ${cut}`).toContain(problem.code);
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
    expect(seen).toBe(90);
  });
});

describe.skipIf(noFfprobe)(titled('an MP4 recorder killed with SIGKILL', noFfprobe), () => {
  it('leaves a file that plays without an error to its last whole fragment; repairMp4 adds the index', async () => {
    const out = join(dir, 'killed.mp4');
    const child = spawn(process.execPath, [childEntry, out, join(dir, 'units')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let count = 0;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const last = d.trim().split('\n').at(-1);
      if (last) count = Number(last);
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      const deadline = Date.now() + 20_000;
      while (count < 100 && Date.now() < deadline) await sleep(20);
      expect(count).toBeGreaterThanOrEqual(100);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    } finally {
      child.kill('SIGKILL');
    }
    const before = await inspectMp4(out);
    expect(before.frames).toBeGreaterThanOrEqual(60); // at least the fragments a second before the kill
    expect(before.frames).toBeLessThanOrEqual(count);
    expect(before.problems.map((p) => p.code)).toContain('MISSING_INDEX');
    const played = await probe(out);
    expect(played.errors).toBe('');
    expect(played.frames).toBe(before.frames);

    const repaired = await repairMp4(out);
    expect(repaired.frames).toBe(before.frames);
    expect(await inspectMp4(out)).toMatchObject({ frames: before.frames, indexed: true, problems: [] });
    expect(await probe(out)).toMatchObject({ errors: '', frames: before.frames });
  });
});
