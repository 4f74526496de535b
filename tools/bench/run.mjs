#!/usr/bin/env node
// Runs every benchmark, each in a fresh node process, and writes BENCHMARKS.md.
// Each benchmark module exports `run({ quick })` and resolves to a BenchResult (which
// `node <id>.mjs --json` prints, and which this script reads):
//   { id, title, baseline, goal, goalMet (true/false/null), ratio: { median, min, max, runs },
//     table?: [{ ...columns }], rows: [{ ...columns }], notes: [string] }
// Figures are ratios against a baseline measured in the same run, because these machines are
// shared and noisy: an absolute number alone proves nothing.
//
// With --repeat N the whole suite runs N times, one full run after another, and a Reproduction
// section says whether each run's headline lies within every other run's stated spread.
//
// With --merge FILE it runs nothing: the benchmarks of FILE (a partial run's markdown, from
// --only … --out FILE) are spliced into BENCHMARKS.md, marked as run alone (support/merge.mjs).
//
// Usage: node tools/bench/run.mjs [--quick] [--json] [--only id,id] [--repeat N] [--out FILE] [--merge FILE] [--help]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mergeInto } from './support/merge.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// Order: the cheap ones first, so a smoke run fails fast.
const modules = ['decode', 'record', 'encode', 'startup', 'footprint', 'oneclient', 'delivery', 'latency', 'fanout', 'cameras', 'seed', 'h264', 'motion', 'mp4'];

const USAGE = `Usage: node tools/bench/run.mjs [--quick] [--json] [--only id,id] [--repeat N] [--out FILE] [--merge FILE] [--help]

Runs the benchmarks (${modules.join(', ')})
and writes their results as markdown.

  --quick      small, short runs whose goals are not judged; the markdown goes to
               stdout unless --out is given
  --json       print the machine and the results as JSON on stdout, write no markdown
  --only IDS   run only these benchmarks, comma-separated
  --repeat N   run the whole selection N times, one full run after another (default 1;
               \`npm run bench\` uses 2), and report whether the runs reproduce each
               other: every run's median within every other run's spread (min–max)
  --out FILE   where the markdown goes (default: BENCHMARKS.md at the repository root)
  --merge FILE run nothing: splice the benchmarks of FILE (written by --only IDS --out FILE)
               into the markdown (--out, default BENCHMARKS.md): their summary rows and
               sections replace or join the others, marked as run alone with their date and load
  --help       print this and run nothing
`;

function usageError(message) {
  process.stderr.write(`run.mjs: ${message}\n${USAGE.split('\n')[0]}\n`);
  process.exit(2);
}

const opts = { quick: false, json: false, only: null, out: null, repeat: 1, merge: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === '--help' || arg === '-h') {
    process.stdout.write(USAGE);
    process.exit(0);
  } else if (arg === '--quick') opts.quick = true;
  else if (arg === '--json') opts.json = true;
  else if (arg === '--only' || arg === '--out' || arg === '--repeat' || arg === '--merge') {
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) usageError(`${arg} needs a value`);
    if (arg === '--out') opts.out = value;
    else if (arg === '--merge') opts.merge = value;
    else if (arg === '--repeat') {
      opts.repeat = Number(value);
      if (!Number.isInteger(opts.repeat) || opts.repeat < 1 || opts.repeat > 10) usageError(`--repeat takes a whole number of runs from 1 to 10, not ${JSON.stringify(value)}`);
    } else opts.only = value.split(',');
  } else usageError(`unknown option ${arg}`);
}
const unknown = opts.only?.filter((id) => !modules.includes(id)) ?? [];
if (unknown.length > 0) usageError(`no benchmark called ${unknown.join(', ')}`);
const { quick, json, only } = opts;
// Quick runs print their markdown unless told where to write it; full runs update BENCHMARKS.md.
const out = opts.out ?? (quick ? null : join(here, '..', '..', 'BENCHMARKS.md'));
if (opts.merge !== null) {
  if (quick || json || only || opts.repeat > 1) usageError('--merge runs nothing: give it alone, with --out at most');
  if (!existsSync(opts.merge)) usageError(`--merge: no file ${opts.merge}; write one first with --only IDS --out ${opts.merge}`);
  mergeInto(out, opts.merge);
  process.stderr.write(`bench: merged ${opts.merge} into ${out}\n`);
  process.exit(0);
}

/**
 * One benchmark in its own node process: its `--json` result. A fresh process per benchmark
 * keeps one benchmark's heap and compiled code from shaping the next one's figures: in one
 * process, the second full run of the seed comparison came out about 20% higher than the first.
 */
function runBenchmark(id) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, `${id}.mjs`), '--json', ...(quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    current = child;
    let out = '';
    // Its progress and errors pass through; the tail is kept to say why it failed.
    let errTail = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => {
      process.stderr.write(d);
      errTail = (errTail + d).slice(-8192);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      current = undefined;
      if (code !== 0) {
        const why = /^\w*Error\b.*$/m.exec(errTail)?.[0];
        return reject(new Error(`node tools/bench/${id}.mjs exited with ${signal ?? code}${why ? `: ${why}` : ''}`));
      }
      try {
        resolve(JSON.parse(out));
      } catch (err) {
        reject(new Error(`node tools/bench/${id}.mjs printed no JSON result (${err.message})`));
      }
    });
  });
}
/** The benchmark running now, stopped with us (it stops its own servers and ffmpeg). */
let current;
for (const signal of ['SIGINT', 'SIGTERM']) {
  const code = signal === 'SIGINT' ? 130 : 143;
  process.on(signal, () => {
    if (current) current.once('close', () => process.exit(code)).kill(signal);
    else process.exit(code);
  });
}

const started = performance.now();
/** One full run of the selection: { loadAverageAtStart, totalSeconds, seconds: {id: s}, results }. */
async function fullRun(pass) {
  const loadAverageAtStart = loadavg().map((l) => l.toFixed(2)).join(', ');
  const date = new Date().toISOString();
  const t0 = performance.now();
  const results = [];
  const seconds = {};
  for (const id of modules) {
    if (only && !only.includes(id)) continue;
    const label = `${id}${quick ? ' (quick)' : ''}${opts.repeat > 1 ? `, run ${pass} of ${opts.repeat}` : ''}`;
    if (!json) process.stderr.write(`bench: ${label}...\n`);
    const t = performance.now();
    // A benchmark that fails is reported as failed and the others still run: a long suite must
    // not lose every figure to one broken step. The exit code says so at the end.
    const result = await runBenchmark(id).catch((err) => {
      process.exitCode = 1;
      process.stderr.write(`bench: ${id} failed: ${err?.message ?? err}\n`);
      return { id, title: id, baseline: 'n/a', goal: 'n/a', goalMet: false, ratio: { median: NaN, min: NaN, max: NaN, runs: 0 }, rows: [], notes: [`Failed: ${String(err?.message ?? err).split('\n')[0]}`] };
    });
    seconds[id] = Math.round((performance.now() - t) / 1000);
    results.push(result);
    if (!json) process.stderr.write(`bench: ${id} ratio ${fmt(result.ratio?.median)} (${seconds[id]} s)\n`);
  }
  return { loadAverageAtStart, date, totalSeconds: Math.round((performance.now() - t0) / 1000), seconds, results };
}
const runs = [];
for (let pass = 1; pass <= opts.repeat; pass++) runs.push(await fullRun(pass));
// The last run's figures are the ones shown in full; the others are in the Reproduction section.
const { results, seconds } = runs[runs.length - 1];
const loadAtStart = runs[runs.length - 1].loadAverageAtStart;

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${platform()} ${release()}`,
  node: process.version,
  date: new Date().toISOString(),
  loadAverageAtStart: loadAtStart,
  loadAverageAtEnd: loadavg().map((l) => l.toFixed(2)).join(', '),
  totalSeconds: Math.round((performance.now() - started) / 1000),
  quick,
};

if (json) {
  process.stdout.write(JSON.stringify({ machine, results, ...(runs.length > 1 ? { runs } : {}) }, null, 2) + '\n');
} else if (out !== null) {
  writeFileSync(out, renderMarkdown(machine, results));
  process.stderr.write(`bench: wrote ${out}\n`);
} else {
  process.stdout.write(renderMarkdown(machine, results));
}

function fmt(n, digits = 2) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function anchor(title) {
  return title
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function table(rows) {
  if (!rows?.length) return '';
  const cols = Object.keys(rows[0]);
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(cols), line(cols.map(() => '---')), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n');
}

function renderMarkdown(m, rs) {
  const parts = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (tools/bench/run.mjs; one benchmark alone: `node tools/bench/<id>.mjs',
    '[--quick] [--json]`). Every figure is a ratio against a baseline measured in the same run',
    '(median over several runs, with the spread), because these machines are shared and noisy.',
    'Where a goal is absolute (CPU per client, latency), the ratio says how close we are to a bare',
    'Node socket doing the same job, and the goal is judged on the measured value, given in the',
    "benchmark's first note.",
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}. Date: ${m.date}.`,
    `Load average at the start: ${m.loadAverageAtStart}; at the end: ${m.loadAverageAtEnd}. ${runs.length > 1 ? `${runs.length} full runs took ${m.totalSeconds} s; the tables are the last run's, and [Reproduction](#reproduction) compares the runs.` : `The whole run took ${m.totalSeconds} s.`}`,
    '',
    '| benchmark | baseline | goal | ratio (median) | spread (min–max) | runs | goal met | time |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rs.map(
      (r) =>
        `| [${r.title}](#${anchor(r.title)}) | ${r.baseline} | ${r.goal} | ${fmt(r.ratio?.median)} | ${fmt(r.ratio?.min)}–${fmt(r.ratio?.max)} | ${r.ratio?.runs ?? ''} | ${r.goalMet === null ? 'n/a' : r.goalMet ? 'yes' : '**no**'} | ${seconds[r.id] ?? ''} s |`,
    ),
    '',
  ];
  for (const r of rs) {
    parts.push(`## ${r.title}`, '', `\`node tools/bench/${r.id}.mjs\``, '');
    // An optional first table (r.table) holds the like-for-like comparison when rows break it down.
    if (r.table?.length) parts.push(table(r.table), '');
    if (r.rows?.length) parts.push(table(r.rows), '');
    for (const n of r.notes ?? []) parts.push(`- ${n}`);
    parts.push('');
  }
  if (runs.length > 1) parts.push(...reproduction(runs));
  // One-off analyses (profiles, before/after studies) are written by hand and kept across runs.
  const analyses = join(here, 'analyses.md');
  if (!m.quick && existsSync(analyses)) parts.push(readFileSync(analyses, 'utf8').trimEnd(), '');
  return parts.join('\n');
}

/** Does each run's headline median lie within every other run's spread (min–max)? */
function reproduces(ratios) {
  // On the figures as printed (two decimals), so a reader can check the verdict from the table.
  const r = ratios.map((x) => ({ median: Number(fmt(x.median)), min: Number(fmt(x.min)), max: Number(fmt(x.max)) }));
  return r.every((a, i) => r.every((b, j) => i === j || (a.median >= b.min && a.median <= b.max)));
}

function reproduction(all) {
  const cell = (r) => (r ? `${fmt(r.median)} (${fmt(r.min)}–${fmt(r.max)})` : 'n/a');
  const lines = [
    '## Reproduction',
    '',
    `${all.length} full runs of the same selection, one after another. A figure reproduces when every run's median lies within every other run's spread (min–max of that run's per-run ratios).`,
    '',
    `| benchmark | ${all.map((_, i) => `run ${i + 1}: median (min–max)`).join(' | ')} | reproduces |`,
    `| --- | ${all.map(() => '---').join(' | ')} | --- |`,
  ];
  const ids = all[0].results.map((r) => r.id);
  let failed = 0;
  for (const id of ids) {
    const rs = all.map((run) => run.results.find((r) => r.id === id));
    const ratios = rs.map((r) => r?.ratio).filter((x) => x && Number.isFinite(x.median));
    const ok = ratios.length === rs.length && reproduces(ratios);
    if (!ok) failed++;
    lines.push(`| ${rs[0].title} | ${rs.map((r) => cell(r?.ratio)).join(' | ')} | ${ok ? 'yes' : '**no**'} |`);
  }
  lines.push('', `| run | started | load average at its start (1, 5, 15 min) | took |`, '| --- | --- | --- | --- |');
  all.forEach((run, i) => lines.push(`| ${i + 1} | ${run.date} | ${run.loadAverageAtStart} | ${run.totalSeconds} s |`));
  lines.push('', failed === 0 ? `Every headline reproduced across the ${all.length} runs.` : `${failed} of ${ids.length} headlines did not reproduce across the ${all.length} runs (marked **no**).`, '');
  return lines;
}
