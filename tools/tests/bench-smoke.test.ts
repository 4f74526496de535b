// CI's check that the benchmarks still work: every one runs in --quick mode (small, short, goals
// not judged) and reports the shape run.mjs renders, with a finite ratio. Speed is not asserted
// here; `npm run bench` measures it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bench = (name: string) => fileURLToPath(new URL(`../bench/${name}`, import.meta.url));

interface BenchResult {
  id: string;
  title: string;
  baseline: string;
  goal: string;
  goalMet: boolean | null;
  ratio: { median: number; min: number; max: number; runs: number };
  rows: Record<string, unknown>[];
  notes: string[];
}

describe('the benchmarks in quick mode', () => {
  it('all run through run.mjs and each reports a finite ratio with its spread', async () => {
    // Generous: the quick run takes about a minute and a half on an idle 2-core machine (footprint's
    // memory profile alone is three phases of 12 s, record's CPU comparison a few 2 s recordings),
    // CI machines are busier.
    const { stdout } = await run(process.execPath, [bench('run.mjs'), '--quick', '--json'], {
      timeout: 480_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const report = JSON.parse(stdout) as { machine: { quick: boolean; cores: number }; results: BenchResult[] };
    expect(report.machine.quick).toBe(true);
    expect(report.results.map((r) => r.id)).toEqual(['decode', 'record', 'encode', 'startup', 'footprint', 'oneclient', 'delivery', 'latency', 'fanout', 'cameras', 'seed', 'h264', 'motion', 'mp4']);
    for (const r of report.results) {
      // `table` is optional: a first, like-for-like table before the rows (record.mjs has one).
      expect(Object.keys(r).filter((k) => k !== 'table').sort(), r.id).toEqual(['baseline', 'goal', 'goalMet', 'id', 'notes', 'ratio', 'rows', 'title']);
      if ('table' in r) expect((r as { table: unknown[] }).table.length, `${r.id} table`).toBeGreaterThan(0);
      for (const k of ['median', 'min', 'max'] as const) {
        expect(Number.isFinite(r.ratio[k]), `${r.id} ratio.${k} = ${r.ratio[k]}`).toBe(true);
        expect(r.ratio[k], `${r.id} ratio.${k}`).toBeGreaterThan(0);
      }
      expect(r.ratio.min).toBeLessThanOrEqual(r.ratio.median);
      expect(r.ratio.median).toBeLessThanOrEqual(r.ratio.max);
      expect(r.ratio.runs).toBeGreaterThanOrEqual(1);
      expect(r.goalMet, `${r.id}: goals are not judged in quick mode`).toBeNull();
      expect(r.rows.length).toBeGreaterThan(0);
      expect(r.notes.length).toBeGreaterThan(0);
    }
  }, 540_000);

  it('print their table when run alone', async () => {
    const { stdout } = await run(process.execPath, [bench('decode.mjs'), '--quick'], { timeout: 60_000 });
    expect(stdout).toContain('decoder MB/s');
    expect(stdout).toMatch(/goal >= 0\.9: not judged in --quick/);
  });

  it('print run.mjs usage with --help and run nothing', async () => {
    const { stdout, stderr } = await run(process.execPath, [bench('run.mjs'), '--help'], { timeout: 10_000 });
    expect(stdout).toMatch(/^Usage: node tools\/bench\/run\.mjs/);
    expect(stdout).toContain('--out FILE');
    expect(stderr).not.toContain('bench:');
  });

  it('run the selection twice with --repeat 2 and compare the runs in a Reproduction section', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgecam-bench-repeat-'));
    try {
      const out = join(dir, 'bench.md');
      const { stderr } = await run(process.execPath, [bench('run.mjs'), '--quick', '--only', 'decode', '--repeat', '2', '--out', out], { timeout: 120_000 });
      expect(stderr).toContain('decode (quick), run 2 of 2');
      const markdown = await readFile(out, 'utf8');
      const section = markdown.slice(markdown.indexOf('## Reproduction'));
      expect(section).toMatch(/^## Reproduction\n/);
      // One row per benchmark: both runs' medians with their spreads, and the verdict.
      const row = section.split('\n').find((l) => l.startsWith('| Frame decoding (v1) |'));
      expect(row).toMatch(/^\| Frame decoding \(v1\) \| [\d.]+ \([\d.]+–[\d.]+\) \| [\d.]+ \([\d.]+–[\d.]+\) \| (yes|\*\*no\*\*) \|$/);
      // The verdict follows from the figures: yes exactly when each median lies in the other's spread.
      const [a, b] = [...row!.matchAll(/([\d.]+) \(([\d.]+)–([\d.]+)\)/g)].map((m) => m.slice(1, 4).map(Number));
      const within = (x: number[], y: number[]) => x[0]! >= y[1]! && x[0]! <= y[2]!;
      expect(row!.endsWith(within(a!, b!) && within(b!, a!) ? '| yes |' : '| **no** |')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuse a --repeat that is not a whole number of runs, naming the valid range', async () => {
    const failed = run(process.execPath, [bench('run.mjs'), '--repeat', 'two'], { timeout: 10_000 });
    await expect(failed).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--repeat takes a whole number of runs from 1 to 10, not "two"') });
  });

  it('refuse an unknown run.mjs option instead of starting a run', async () => {
    const failed = run(process.execPath, [bench('run.mjs'), '--quik'], { timeout: 10_000 });
    await expect(failed).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown option --quik') });
  });

  it('report a benchmark that fails, with its error, and still run the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgecam-bench-fail-'));
    try {
      const out = join(dir, 'bench.md');
      // record.mjs takes its ffmpeg from EDGECAM_FFMPEG: one that does not exist makes it fail.
      const failed = run(process.execPath, [bench('run.mjs'), '--quick', '--only', 'record,decode', '--out', out], {
        timeout: 60_000,
        env: { ...process.env, EDGECAM_FFMPEG: join(dir, 'no-such-ffmpeg') },
      });
      await expect(failed).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/bench: record failed: node tools\/bench\/record\.mjs exited with 1: Error: spawn .*no-such-ffmpeg ENOENT/) });
      const markdown = await readFile(out, 'utf8');
      expect(markdown).toMatch(/^\| \[record\]\(#record\) \| n\/a \| n\/a \| n\/a \| n\/a–n\/a \| 0 \| \*\*no\*\* \|/m);
      expect(markdown).toMatch(/^- Failed: node tools\/bench\/record\.mjs exited with 1: Error: spawn .*ENOENT$/m);
      // decode ran after record failed, and has its figure.
      expect(markdown).toMatch(/^\| \[Frame decoding \(v1\)\]\(#frame-decoding-v1\) \| .* \| [\d.]+ \| [\d.]+–[\d.]+ \| 3 \|/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('write the markdown where --out says', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgecam-bench-out-'));
    try {
      const out = join(dir, 'bench.md');
      await run(process.execPath, [bench('run.mjs'), '--quick', '--only', 'decode', '--out', out], { timeout: 60_000 });
      const markdown = await readFile(out, 'utf8');
      expect(markdown).toMatch(/^# Benchmarks/);
      expect(markdown).toContain('## Frame decoding (v1)');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
