#!/usr/bin/env node
// Fan-out benchmark: 1, 10 and 50 v2 clients streaming 1280x720 at 30 fps from one server.
// Measured: the server's CPU time (its process.cpuUsage, user + system) per second and its RSS,
// and for each client the share of the source's frames it received.
//
// The server runs in a child process fed pre-encoded JPEGs from memory at 30 fps (always on, so
// the source's own cost is the same at every client count); the clients run in this process, so
// their CPU is not the server's. Clients are added 1 -> 10 -> 50 on the same server; at each
// count, after a warm-up, the server reports its CPU time, RSS and newest sequence number at the
// start and end of a window, and a client's rate is how many of the sequence numbers of that
// window it received (v2 frames carry them), so edges and jitter cannot blur it.
// The baseline is a bare Node socket server (support/server-child.mjs, kind 'plain'): the same
// paced frames written to every client as one corked v2 FRAME write, skipped for a client whose
// previous frame is still queued; no sessions, hub, metrics or logs.
// The cost of a client is the slope: (CPU at 50 clients - CPU at 1) / 49. The figure is
// slope(baseline) / slope(edgecam), per run, median: 1 means a client costs edgecam no more than
// the least any Node server must spend to write its frames. The goal is absolute: under 1% of a
// core per extra client, and no client below 95% of the source's frames.
//
// Usage: node tools/bench/fanout.mjs [--quick] [--json]   (needs the packages built)
import { withServers } from './support/setup.mjs';
import { ratioOf, rotated, round, runStandalone, sleep, stats } from './support/stats.mjs';
import { openStreamClient } from './support/stream-client.mjs';

const COUNTS = [1, 10, 50];
const FPS = 30;
const GOAL_CORE_PER_CLIENT = 0.01;
const GOAL_MIN_RATE = 0.95;

/** One pass 1 -> 10 -> 50 clients on a server; per count: cores, rss, client rates. */
async function pass(server, { warmMs, windowMs }) {
  const clients = [];
  const out = [];
  try {
    for (const n of COUNTS) {
      while (clients.length < n) clients.push(await openStreamClient(server.port, { framing: 'v2', record: true }));
      await sleep(warmMs);
      const u0 = await server.usage();
      const t0 = performance.now();
      await sleep(windowMs);
      const u1 = await server.usage({ gc: true });
      const seconds = (performance.now() - t0) / 1000;
      await sleep(300); // frames of the window still on their way
      const expected = u1.seq - u0.seq;
      const rates = clients.map((c) => {
        if (c.error) throw c.error;
        let got = 0;
        for (const s of c.seqs) if (s > u0.seq && s <= u1.seq) got++;
        c.seqs.length = 0;
        c.latencies.length = 0;
        return got / expected;
      });
      out.push({ n, cores: (u1.cpuUs - u0.cpuUs) / 1e6 / seconds, rss: u1.rss, live: u1.live, minRate: Math.min(...rates), sourceFps: expected / seconds });
    }
  } finally {
    for (const c of clients) c.close();
  }
  return out;
}

const slope = (p, from, to) => {
  const a = p.find((x) => x.n === from);
  const b = p.find((x) => x.n === to);
  return (b.cores - a.cores) / (to - from);
};

export async function run({ quick = false } = {}) {
  // Five passes: with three, one busy spell moved the median outside a second run's spread.
  // Seven runs: with five, two full runs' medians (0.74, 0.66) missed each other's spreads by 0.01.
  const runs = quick ? 1 : 7;
  const timing = quick ? { warmMs: 200, windowMs: 300 } : { warmMs: 1000, windowMs: 4000 };
  return withServers('fanout', { quick }, async ({ jpegs, meanJpeg, start }) => {
    const common = { fps: FPS, framing: 'v2', alwaysOn: true };
    const edgecam = await start({ ...common, kind: 'edgecam' });
    const plain = await start({ ...common, kind: 'plain' });
    const passes = { edgecam: [], plain: [] };
    for (let r = 0; r < runs; r++) {
      for (const name of rotated(['edgecam', 'plain'], r)) passes[name].push(await pass(name === 'edgecam' ? edgecam : plain, timing));
    }

    const slopes = (name, from = 1, to = 50) => passes[name].map((p) => slope(p, from, to));
    const ratio = ratioOf(slopes('edgecam').map((s, i) => slopes('plain')[i] / s));
    const perClient = stats(slopes('edgecam'));
    const worstRate = Math.min(...passes.edgecam.flat().map((x) => x.minRate));
    const pct = (x) => round(x * 100, 2);
    const rows = [];
    for (const [name, label] of [['edgecam', 'edgecam-server'], ['plain', 'plain Node socket (baseline)']]) {
      for (const n of COUNTS) {
        const at = passes[name].map((p) => p.find((x) => x.n === n));
        const cores = stats(at.map((x) => x.cores));
        const extra = n === 1 ? null : stats(slopes(name, 1, n));
        const rssMiB = stats(at.map((x) => x.rss / 2 ** 20));
        const livePer = n === 1 ? null : stats(passes[name].map((p) => (p.find((x) => x.n === n).live - p[0].live) / (n - 1) / 1024));
        rows.push({
          server: label,
          clients: n,
          'server CPU, % of a core (min–max)': `${pct(cores.median)} (${pct(cores.min)}–${pct(cores.max)})`,
          'per extra client, % of a core (min–max)': extra ? `${pct(extra.median)} (${pct(extra.min)}–${pct(extra.max)})` : '—',
          'RSS MiB': round(rssMiB.median, 1),
          'heap + buffers per extra client KiB': livePer ? round(livePer.median, 0) : '—',
          'slowest client, % of source frames': pct(Math.min(...at.map((x) => x.minRate))),
          'source fps': round(stats(at.map((x) => x.sourceFps)).median, 1),
        });
      }
    }
    const cpuMet = perClient.median < GOAL_CORE_PER_CLIENT;
    const rateMet = worstRate >= GOAL_MIN_RATE;
    return {
      id: 'fanout',
      title: 'Fan-out: 1, 10, 50 clients at 1280x720, 30 fps',
      baseline: 'a bare Node socket server writing the same paced frames to every client (CPU per extra client)',
      goal: `< ${GOAL_CORE_PER_CLIENT * 100}% of a core per extra client, every client >= ${GOAL_MIN_RATE * 100}% of source frames`,
      goalMet: quick ? null : cpuMet && rateMet,
      ratio,
      rows,
      notes: [
        `Goal: each extra client costs edgecam-server ${pct(perClient.median)}% of a core (median of ${runs} runs, ${pct(perClient.min)}–${pct(perClient.max)}; goal under ${GOAL_CORE_PER_CLIENT * 100}%: ${cpuMet ? 'met' : 'NOT met'}), and the slowest of all clients in all runs received ${pct(worstRate)}% of the source's frames (goal at least ${GOAL_MIN_RATE * 100}%: ${rateMet ? 'met' : 'NOT met'}).`,
        `The ratio is the baseline's CPU per extra client over edgecam's (1 -> 50 clients), per run, median: 1 would be as cheap as a bare socket server; below 1 is what sessions, the hub, metrics and logs cost on top.`,
        `${jpegs.length} pre-encoded 1280x720 JPEGs (mean ${round(meanJpeg / 1024, 1)} KiB, so ${round((meanJpeg * FPS * 8) / 1e6, 1)} Mbit/s per client) paced at ${FPS} fps; v2 clients; ${runs} runs per server, alternating, each adding clients 1 -> 10 -> 50 with ${timing.warmMs} ms of warm-up and a ${timing.windowMs} ms window per count. CPU is user + system time of the server process, which includes the kernel's loopback TCP work done on its behalf. Memory is read after a full garbage collection at the end of each window: RSS, and the V8 heap plus Buffers (what a client keeps alive; RSS moves in allocator-sized steps).`,
      ],
    };
  });
}

await runStandalone(import.meta.url, run);
