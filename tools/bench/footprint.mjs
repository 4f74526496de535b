#!/usr/bin/env node
// Footprint benchmark (issues 15 and 29): edgecam-server's own memory (the node process, without
// its ffmpeg children), as a user runs it (`node bin/edgecam-server.js`, the bundle).
//
// Short runs, alternating with the baseline so both see the same machine (9 of each):
//   - edgecam: one 640x480 test-pattern camera (testsrc through ffmpeg, logs at warn to a pipe);
//   - baseline: a bare node:http server in a fresh `node`, serving the same multipart stream of
//     640x480 JPEGs at 30 fps from memory.
//   RSS is VmRSS from /proc: idle once listening, then streaming to two viewers for 4 s.
// The memory profile (support/memory-profile.mjs), each process with its baseline side by side
// for 10 minutes (--quick: 12 s), RSS read every 2 s:
//   1. one camera idle, and one camera with two viewers (four processes at once);
//   2. four cameras with ten viewers each (a config file of four test patterns; the baseline
//      serves four streams);
//   3. one camera with two viewers, and four cameras with ten viewers each, under a hard memory
//      limit (a memory cgroup holding the server and its ffmpeg, as systemd's MemoryMax= would;
//      --max-old-space-size where cgroups cannot be made).
// The headline ratio is RSS(baseline) / RSS(edgecam) with two viewers over the last minute of
// the 10 (per pair of samples taken at the same moment: median, min–max). The goal is absolute
// (50 MB with two viewers, flat), judged on the median and the slope.
//
// Usage: node tools/bench/footprint.mjs [--quick] [--json]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BARE_HTTP, SERVER_BIN, freePort, memoryOf, spawnNode, viewer, waitHttp } from './support/commands.mjs';
import { profileRow, runProfiles } from './support/memory-profile.mjs';
import { withTempDir } from './support/setup.mjs';
import { writeJpegs } from './support/frames.mjs';
import { ratioOf, round, runStandalone, sleep, stats } from './support/stats.mjs';

const GOAL_MB = 50;
const MB = 1_000_000;
/** Flat: the fitted slope from minute one on, MiB per hour. */
const FLAT_MIB_PER_HOUR = 1;

/**
 * RSS sampled every 100 ms for `ms`: the median over the second half, and the most over all of
 * it. One reading lands anywhere between two collections, which moved single readings by about
 * 1% from one full run to the next.
 */
async function sampledRss(pid, ms) {
  const samples = [];
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    samples.push({ at: performance.now() - t0, ...memoryOf(pid) });
    await sleep(100);
  }
  const steady = samples.filter((x) => x.at >= ms / 2);
  const median = (key) => stats(steady.map((x) => x[key])).median;
  return { rss: median('rss'), anon: median('anon'), file: median('file'), peak: Math.max(...samples.map((x) => x.rss)) };
}

async function measure(kind, dir, { idleMs, streamMs }) {
  const port = await freePort();
  const args =
    kind === 'edgecam'
      ? [SERVER_BIN, '--host', '127.0.0.1', '--port', '0', '--http-port', String(port), '--size', '640x480', '--log-level', 'warn']
      : ['--input-type=module', '-e', BARE_HTTP, dir, String(port)];
  const proc = spawnNode(args);
  try {
    await waitHttp(port, kind === 'edgecam' ? '/status' : '/', proc);
    const idle = (await sampledRss(proc.pid, idleMs)).rss;
    const viewers = [viewer(port), viewer(port)];
    const { rss: streaming, anon, file, peak } = await sampledRss(proc.pid, streamMs);
    const received = Math.min(...viewers.map((v) => v.bytes()));
    for (const v of viewers) v.close();
    if (received === 0) throw new Error(`${kind}: a viewer received nothing (${proc.stderr().trim()})`);
    return { idle, streaming, anon, file, peak };
  } finally {
    await proc.stop();
  }
}

const CAMERAS = ['a', 'b', 'c', 'd'];
// The hard limits: the 50 MB goal for one camera's server and its ffmpeg together; for four
// cameras, four ffmpeg encoders more.
const LIMIT_ONE = GOAL_MB * MB;
const LIMIT_FOUR = 128 * 2 ** 20;

/** The memory profile's three phases, one after another; one summary per process. */
async function memoryProfile(dir, minutes) {
  const one = { cameras: ['default'], viewers: 2 };
  const four = { cameras: CAMERAS, viewers: 10 };
  const phases = [
    [
      { id: 'e-idle', label: 'edgecam-server, one camera, idle', kind: 'edgecam', cameras: ['default'], viewers: 0 },
      { id: 'b-idle', label: 'bare node:http server, idle (baseline)', kind: 'bare', cameras: ['default'], viewers: 0 },
      { id: 'e-1', label: 'edgecam-server, one camera, two viewers', kind: 'edgecam', ...one },
      { id: 'b-1', label: 'bare node:http server, two viewers (baseline)', kind: 'bare', ...one },
      // What V8's optimizing compiler costs in RSS (the pages of its code in the node binary).
      { id: 'e-1-maxopt', label: 'edgecam-server, one camera, two viewers, node --max-opt=2 (no TurboFan)', kind: 'edgecam', ...one, nodeArgs: ['--max-opt=2'] },
    ],
    [
      { id: 'e-4', label: 'edgecam-server, four cameras, ten viewers each', kind: 'edgecam', ...four },
      { id: 'b-4', label: 'bare node:http server, four streams, ten viewers each (baseline)', kind: 'bare', ...four },
    ],
    [
      { id: 'e-1-limit', label: `edgecam-server, one camera, two viewers, limit ${GOAL_MB} MB with its ffmpeg`, kind: 'edgecam', ...one, limit: { bytes: LIMIT_ONE } },
      { id: 'e-4-limit', label: `edgecam-server, four cameras, ten viewers each, limit ${LIMIT_FOUR / 2 ** 20} MiB with its four ffmpeg`, kind: 'edgecam', ...four, limit: { bytes: LIMIT_FOUR } },
    ],
  ];
  const all = [];
  for (const phase of phases) all.push(...(await runProfiles(phase, { minutes, dir })));
  return all;
}

/** Runs the benchmark and resolves to the BenchResult that tools/bench/run.mjs expects. */
export async function run({ quick = false } = {}) {
  // Nine runs: with five, two full runs' spreads (a few tenths of a MiB) missed each other.
  const runs = quick ? 1 : 9;
  const timing = quick ? { idleMs: 500, streamMs: 1500 } : { idleMs: 1000, streamMs: 4000 };
  const minutes = quick ? 0.2 : 10;
  return withTempDir('footprint', async (dir) => {
    const jpegDir = join(dir, 'jpegs');
    mkdirSync(jpegDir);
    await writeJpegs(jpegDir, { width: 640, height: 480, count: 30 });
    const t = { edgecam: [], baseline: [] };
    for (let r = 0; r < runs; r++) {
      const order = r % 2 ? ['baseline', 'edgecam'] : ['edgecam', 'baseline'];
      for (const kind of order) t[kind].push(await measure(kind, jpegDir, timing));
    }
    const profile = await memoryProfile(dir, minutes);
    const byId = Object.fromEntries(profile.map((p) => [p.id, p]));
    const e1 = byId['e-1'];
    const b1 = byId['b-1'];
    // Per moment: the two processes' samples of the last minute, taken together.
    const pairs = e1.lastMinute.flatMap((e, i) => (Number.isFinite(e) && Number.isFinite(b1.lastMinute[i]) ? [b1.lastMinute[i] / e] : []));
    const ratio = ratioOf(pairs);
    const cell = (xs, d = 1) => {
      const s = stats(xs);
      return `${round(s.median, d)} (${round(s.min, d)}–${round(s.max, d)})`;
    };
    const row = (name, xs) => ({
      server: name,
      'RSS idle MiB (min–max)': cell(xs.map((x) => x.idle)),
      'RSS, 2 viewers MiB (min–max)': cell(xs.map((x) => x.streaming)),
      'most while streaming MiB (min–max)': cell(xs.map((x) => x.peak)),
      'of it anonymous / file-backed MiB': `${round(stats(xs.map((x) => x.anon)).median, 1)} / ${round(stats(xs.map((x) => x.file)).median, 1)}`,
    });
    const short = stats(t.edgecam.map((x) => x.streaming)).median;
    const shortBase = stats(t.baseline.map((x) => x.streaming)).median;
    const long = e1.rss.median;
    // What the goal rules out is a climb (to a late collection, or a leak): RSS that falls as the
    // heap settles is flat for it.
    const flat = e1.slopePerHour < FLAT_MIB_PER_HOUR;
    const limited = profile.filter((p) => p.limit);
    return {
      id: 'footprint',
      title: 'Footprint: memory of one camera with two viewers, and over 10 minutes',
      baseline: 'a bare node:http server in a fresh node streaming the same 640x480 JPEGs to two viewers, side by side for 10 minutes (RSS)',
      goal: `edgecam-server's RSS at most ${GOAL_MB} MB with two viewers, flat over 10 minutes`,
      goalMet: quick ? null : long * 2 ** 20 <= GOAL_MB * MB && flat,
      ratio,
      table: [row('edgecam-server (testsrc 640x480 via ffmpeg; node process only)', t.edgecam), row('bare node:http MJPEG server (baseline)', t.baseline)],
      rows: profile.map(profileRow),
      notes: [
        `Goal: after ${minutes} minutes with two viewers edgecam-server's RSS is ${round(long, 1)} MiB (${round((long * 2 ** 20) / MB, 1)} MB; median of the last minute), goal at most ${GOAL_MB} MB: ${quick ? 'not judged in --quick' : long * 2 ** 20 <= GOAL_MB * MB ? 'met' : 'not met'}; its slope from minute one on is ${round(e1.slopePerHour, 2)} MiB per hour (flat: climbing less than ${FLAT_MIB_PER_HOUR}; a fall is the heap settling): ${flat ? 'flat' : 'not flat'}. The bare node:http server beside it: ${round(b1.rss.median, 1)} MiB (${round((b1.rss.median * 2 ** 20) / MB, 1)} MB), ratio ${ratio.median} (${ratio.min}–${ratio.max}).`,
        `Where the rest goes, and the floor: a node process that does nothing is about 40 MiB here, 34 MiB of it file-backed (the pages of the node binary it has run, shared with every other node process and dropped first under memory pressure), and a bare node:http server streaming to two viewers is ${round(shortBase, 1)} MiB (first table), ${round(b1.rss.median, 1)} MiB after ${minutes} minutes: above the goal before edgecam adds anything. edgecam-server's anonymous memory (its heap, buffers and malloc) is ${round(e1.anon, 1)} MiB against the bare server's ${round(b1.anon, 1)} MiB.`,
        `First table (short runs): ${runs} runs alternating with the baseline, each a fresh process; RSS read every 100 ms, idle the median over the second half of the ${timing.idleMs} ms after it first answered, streaming the median over the second half of ${timing.streamMs} ms of two viewers reading /stream.mjpg (the most: over all of it). ${round(short, 1)} MiB against the baseline's ${round(shortBase, 1)} MiB.`,
        `Second table (memory profile): each process with its baseline side by side for ${minutes} minutes, RSS (VmRSS) read every 2 s; after the run: the median of the last minute (min–max); the slope: a straight line fitted from minute one on; its ffmpeg: the RSS of its child processes (not in the node process's figures). Phases one after another: idle and two viewers together, then four cameras, then the limited runs.`,
        `Hard limits (phase 3): ${limited.map((p) => `${p.label}: ${p.limit}; ${p.exited ? `it was killed (${p.exited})` : 'it ran to the end'}${p.cgroup ? `, the limit was hit ${p.cgroup.limitHits} times, ${p.cgroup.oomKills} OOM kills, at most ${round(p.cgroup.peak, 1)} MiB charged` : ''}`).join('; ')}. A cgroup counts the server's and its ffmpeg's own memory; the node binary's pages, already in the page cache, stay charged to the shell that read them first, so the charge is about their anonymous memory.`,
        `Without V8's optimizing compiler (node --max-opt=2, a row of the second table): ${round(byId['e-1-maxopt'].rss.median, 1)} MiB, of it ${round(byId['e-1-maxopt'].file, 1)} MiB file-backed: TurboFan's own code is about ${round(e1.file - byId['e-1-maxopt'].file, 1)} MiB of the node binary's pages. Not the default: motion detection blurs and compares every pixel it analyses in JavaScript loops, which need it; a board without motion detection may set NODE_OPTIONS=--max-opt=2 (the server's CPU per frame with one viewer was not worse without it in a short trial, issue 29).`,
        'V8 flags: bin/edgecam-server.js keeps the young generation at its first 1 MiB semi-space (--semi-space-growth-factor=1): left to grow to 16 MiB, it added up to 30 MiB during the first minutes (issue 29: 65.6 MiB idle, 76 MiB with two viewers, climbing until the first full collection).',
        'Only what a run needs is loaded: pino-pretty only when logs go to a terminal, selfsigned only when a certificate is made, yaml only with --config or `config check`, prom-client at the first /metrics, a feature\'s code (recorder, detector, H.264 and WebRTC, publisher) only on a camera that turns it on, the events outputs (webhooks, MQTT, clips) only when configured.',
      ],
    };
  });
}

await runStandalone(import.meta.url, run);
