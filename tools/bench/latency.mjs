#!/usr/bin/env node
// Latency benchmark: capture to client receive, with v2 capture timestamps, at 30 fps, with 1
// and 10 clients, p50 and p99.
//
// The server runs in a child process fed pre-encoded 1280x720 JPEGs from memory at 30 fps; a
// frame's capture time is stamped when the source emits it (as the real sources stamp a frame
// when it arrives from ffmpeg). The v2 clients run in this process and read the receive time
// when a frame's last byte arrives. Both processes read one clock, CLOCK_MONOTONIC, shifted by one
// offset (support/clock.mjs), so receive minus capture is exact to the microsecond.
// The baseline is a bare Node socket server (kind 'plain') sending the same paced frames as v2
// FRAME messages, stamped the same way: the latency any Node server has on this machine.
// The goal is absolute: p99 under 5 ms on loopback, with 1 and with 10 clients. The figure is
// p99(baseline) / p99(edgecam) with 10 clients, per run, median: 1 means edgecam adds nothing to
// what a bare socket costs.
//
// Usage: node tools/bench/latency.mjs [--quick] [--json]   (needs the packages built)
import { makeClock } from './support/clock.mjs';
import { withServers } from './support/setup.mjs';
import { percentile, ratioOf, rotated, round, runStandalone, sleep, stats } from './support/stats.mjs';
import { openStreamClient } from './support/stream-client.mjs';

const COUNTS = [1, 10];
const FPS = 30;
const GOAL_P99_MS = 5;

/** Latencies (µs) of every frame every client received in the window, pooled. */
async function measure(server, n, clock, { warmMs, windowMs }) {
  const clients = [];
  try {
    for (let i = 0; i < n; i++) clients.push(await openStreamClient(server.port, { framing: 'v2', record: true, clock }));
    await sleep(warmMs);
    for (const c of clients) c.latencies.length = 0;
    await sleep(windowMs);
    const all = [];
    for (const c of clients) {
      if (c.error) throw c.error;
      all.push(...c.latencies);
    }
    if (all.length === 0) throw new Error(`no frame reached ${n} clients in ${windowMs} ms`);
    return all.sort((a, b) => a - b);
  } finally {
    for (const c of clients) c.close();
  }
}

export async function run({ quick = false } = {}) {
  // Eleven runs: with seven, the medians of two full runs fell outside each other's spreads.
  const runs = quick ? 1 : 11;
  const timing = quick ? { warmMs: 200, windowMs: 500 } : { warmMs: 500, windowMs: 4000 };
  return withServers('latency', { quick }, async ({ jpegs, meanJpeg, clockOffsetUs, start }) => {
    const clock = makeClock(clockOffsetUs);
    // Each server's source runs only while its clients stream, so the idle one stays idle.
    const common = { fps: FPS, framing: 'v2', alwaysOn: false, idleStopSeconds: 0.1 };
    const edgecam = await start({ ...common, kind: 'edgecam' });
    const plain = await start({ ...common, kind: 'plain' });
    const byName = { edgecam, plain };

    // samples[name][n] = one sorted list of latencies per run
    const samples = { edgecam: { 1: [], 10: [] }, plain: { 1: [], 10: [] } };
    for (let r = 0; r < runs; r++) {
      for (const n of COUNTS) for (const name of rotated(['edgecam', 'plain'], r)) samples[name][n].push(await measure(byName[name], n, clock, timing));
    }

    const ms = (us) => round(us / 1000, 2);
    const pooled = (name, n) => samples[name][n].flat().sort((a, b) => a - b);
    const ratio = ratioOf(samples.edgecam[10].map((s, i) => percentile(samples.plain[10][i], 99) / percentile(s, 99)));
    const perRun = (name, n, p) => stats(samples[name][n].map((s) => percentile(s, p)));
    const rows = [];
    for (const [name, label] of [['edgecam', 'edgecam-server'], ['plain', 'plain Node socket (baseline)']]) {
      for (const n of COUNTS) {
        const all = pooled(name, n);
        const p50 = perRun(name, n, 50);
        const p99 = perRun(name, n, 99);
        rows.push({
          server: label,
          clients: n,
          'frames per run': Math.round(all.length / runs),
          'p50 ms, median of runs (min–max)': `${ms(p50.median)} (${ms(p50.min)}–${ms(p50.max)})`,
          'p99 ms, median of runs (min–max)': `${ms(p99.median)} (${ms(p99.min)}–${ms(p99.max)})`,
          'p99 ms, all runs pooled': ms(percentile(all, 99)),
          'max ms': ms(all[all.length - 1]),
        });
      }
    }
    const p99Of = (n) => perRun('edgecam', n, 99).median;
    const worstP99 = Math.max(...COUNTS.map(p99Of));
    const met = worstP99 / 1000 < GOAL_P99_MS;
    return {
      id: 'latency',
      title: 'Latency: capture to client receive at 30 fps (v2)',
      baseline: 'a bare Node socket server sending the same paced, stamped frames (p99 with 10 clients)',
      goal: `p99 < ${GOAL_P99_MS} ms with 1 and 10 clients`,
      goalMet: quick ? null : met,
      ratio,
      rows,
      notes: [
        `Goal: edgecam-server's p99 (median of ${runs} runs) is ${ms(p99Of(1))} ms with 1 client and ${ms(p99Of(10))} ms with 10 (goal under ${GOAL_P99_MS} ms: ${met ? 'met' : 'NOT met'}); pooled over all runs, ${ms(percentile(pooled('edgecam', 1), 99))} and ${ms(percentile(pooled('edgecam', 10), 99))} ms.`,
        ...(() => {
          const base10 = perRun('plain', 10, 99).median;
          if (base10 / 1000 < GOAL_P99_MS) return [];
          return [
            `This machine cannot show the ${GOAL_P99_MS} ms goal with 10 clients: the bare Node socket server's own p99 with 10 clients is ${ms(base10)} ms (median of ${runs} runs), over the goal before edgecam adds anything; edgecam's is ${ms(p99Of(10))} ms, so what edgecam adds is the ratio below, not the absolute figure.`,
          ];
        })(),
        'Late frames come in whole rounds: every client (from some client on) receives the same frame about 4, 8 or 12 ms late, in the baseline as in edgecam. That matches a process waiting for a CPU: this kernel is built with HZ=250 and no preemption, so a wait lasts whole 4 ms ticks, on 2 shared virtual cores. A run during a busy spell has many, hence the median over runs, with the spread.',
        'The ratio is p99(baseline) / p99(edgecam) with 10 clients, per run, median: 1 would mean edgecam adds nothing to a bare socket; it says how much of the latency is ours, not whether the goal is met (that is the absolute p99 above).',
        `${jpegs.length} pre-encoded 1280x720 JPEGs (mean ${round(meanJpeg / 1024, 1)} KiB) at ${FPS} fps; ${runs} runs per server and client count, alternating, each a ${timing.windowMs} ms window after ${timing.warmMs} ms of warm-up; percentiles over every frame of every client of every run (nearest rank). Capture time is when the in-memory source emits the frame; receive time is when its last byte reaches the client's 'data' handler; both from CLOCK_MONOTONIC in two processes.`,
      ],
    };
  });
}

await runStandalone(import.meta.url, run);
