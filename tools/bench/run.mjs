#!/usr/bin/env node
// Runs every benchmark in one process and writes BENCHMARKS.md.
// Each benchmark module exports `run({ quick })` and resolves to a BenchResult:
//   { id, title, baseline, goal, goalMet (true/false/null), ratio: { median, min, max, runs },
//     table?: [{ ...columns }], rows: [{ ...columns }], notes: [string] }
// Figures are ratios against a baseline measured in the same run, because these machines are
// shared and noisy: an absolute number alone proves nothing.
//
// Usage: node tools/bench/run.mjs [--quick] [--json] [--only id,id] [--out FILE] [--help]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
// Order: the cheap ones first, so a smoke run fails fast.
const modules = ['decode', 'record', 'encode', 'footprint', 'delivery', 'latency', 'fanout', 'cameras', 'seed', 'h264', 'motion'];

const USAGE = `Usage: node tools/bench/run.mjs [--quick] [--json] [--only id,id] [--out FILE] [--help]

Runs the benchmarks (${modules.join(', ')})
and writes their results as markdown.

  --quick      small, short runs whose goals are not judged; the markdown goes to
               stdout unless --out is given
  --json       print the machine and the results as JSON on stdout, write no markdown
  --only IDS   run only these benchmarks, comma-separated
  --out FILE   where the markdown goes (default: BENCHMARKS.md at the repository root)
  --help       print this and run nothing
`;

function usageError(message) {
  process.stderr.write(`run.mjs: ${message}\n${USAGE.split('\n')[0]}\n`);
  process.exit(2);
}

const opts = { quick: false, json: false, only: null, out: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === '--help' || arg === '-h') {
    process.stdout.write(USAGE);
    process.exit(0);
  } else if (arg === '--quick') opts.quick = true;
  else if (arg === '--json') opts.json = true;
  else if (arg === '--only' || arg === '--out') {
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) usageError(`${arg} needs a value`);
    if (arg === '--out') opts.out = value;
    else opts.only = value.split(',');
  } else usageError(`unknown option ${arg}`);
}
const unknown = opts.only?.filter((id) => !modules.includes(id)) ?? [];
if (unknown.length > 0) usageError(`no benchmark called ${unknown.join(', ')}`);
const { quick, json, only } = opts;
// Quick runs print their markdown unless told where to write it; full runs update BENCHMARKS.md.
const out = opts.out ?? (quick ? null : join(here, '..', '..', 'BENCHMARKS.md'));

const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(', ');
const started = performance.now();
const results = [];
const seconds = {};
for (const id of modules) {
  if (only && !only.includes(id)) continue;
  const mod = await import(join(here, `${id}.mjs`));
  if (!json) process.stderr.write(`bench: ${id}${quick ? ' (quick)' : ''}...\n`);
  const t0 = performance.now();
  const result = await mod.run({ quick });
  seconds[id] = Math.round((performance.now() - t0) / 1000);
  results.push(result);
  if (!json) process.stderr.write(`bench: ${id} ratio ${fmt(result.ratio?.median)} (${seconds[id]} s)\n`);
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  os: `${platform()} ${release()}`,
  node: process.version,
  date: new Date().toISOString(),
  loadAverageAtStart: loadAtStart,
  totalSeconds: Math.round((performance.now() - started) / 1000),
  quick,
};

if (json) {
  process.stdout.write(JSON.stringify({ machine, results }, null, 2) + '\n');
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
    `Load average at the start: ${m.loadAverageAtStart}. The whole run took ${m.totalSeconds} s.`,
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
  return parts.join('\n');
}
