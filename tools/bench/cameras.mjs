#!/usr/bin/env node
// Several-cameras benchmark: four cameras at 1280x720, 30 fps, ten v2 viewers each, against one
// camera with ten viewers, both served by edgecam-server from a `cameras:` configuration.
//
// Each server runs in a child process (support/server-child.mjs, `cameras: N`), its cameras fed
// pre-encoded JPEGs from memory at 30 fps (one in-memory source per camera), so the CPU measured
// is node's own: no ffmpeg. The viewers run in this process and name their camera in HELLO; each
// keeps the sequence numbers it received, and its share is how many of its camera's sequence
// numbers of the measured window it got, so edges and jitter cannot blur it.
// Measured per run: the server's CPU time (user + system) over the frames delivered in the
// window (µs per delivered frame), its RSS after a collection, and every viewer's share.
// The figure is cpuPerFrame(four cameras) / cpuPerFrame(one camera) per run, runs of the two
// alternating, median; the goal is within 10% (<= 1.10) with every viewer >= 95% of its frames.
//
// Usage: node tools/bench/cameras.mjs [--quick] [--json]   (needs the packages built)
import { withServers } from './support/setup.mjs';
import { ratioOf, rotated, round, runStandalone, sleep, stats } from './support/stats.mjs';
import { openStreamClient } from './support/stream-client.mjs';

const CAMERAS = 4;
const VIEWERS = 10;
const FPS = 30;
const GOAL_RATIO = 1.1;
const GOAL_SHARE = 0.95;

/** Ten viewers on each of the server's `cameras` cameras, one window; CPU per frame, RSS and each viewer's share. */
async function measure(server, cameras, { warmMs, windowMs }) {
  const names = Array.from({ length: cameras }, (_, i) => `cam${i + 1}`);
  const viewers = [];
  try {
    for (const camera of names) {
      for (let i = 0; i < VIEWERS; i++) viewers.push({ camera, client: await openStreamClient(server.port, { framing: 'v2', record: true, camera }) });
    }
    await sleep(warmMs);
    const u0 = await server.usage();
    const t0 = performance.now();
    await sleep(windowMs);
    const u1 = await server.usage({ gc: true });
    const seconds = (performance.now() - t0) / 1000;
    await sleep(300); // frames of the window still on their way
    let delivered = 0;
    const shares = viewers.map(({ camera, client }) => {
      if (client.error) throw client.error;
      const from = u0.seqs[camera];
      const to = u1.seqs[camera];
      let got = 0;
      for (const s of client.seqs) if (s > from && s <= to) got++;
      delivered += got;
      return got / (to - from);
    });
    if (delivered === 0) throw new Error(`no frame reached the viewers of ${cameras} cameras in ${windowMs} ms`);
    const sourceFps = names.reduce((a, n) => a + (u1.seqs[n] - u0.seqs[n]), 0) / names.length / seconds;
    return {
      cpuUsPerFrame: (u1.cpuUs - u0.cpuUs) / delivered,
      cores: (u1.cpuUs - u0.cpuUs) / 1e6 / seconds,
      deliveredFps: delivered / seconds,
      sourceFps,
      rss: u1.rss,
      shares,
    };
  } finally {
    for (const { client } of viewers) client.close();
  }
}

export async function run({ quick = false } = {}) {
  const runs = quick ? 1 : 5;
  const timing = quick ? { warmMs: 300, windowMs: 400 } : { warmMs: 1500, windowMs: 5000 };
  return withServers('cameras', { quick }, async ({ jpegs, meanJpeg, start }) => {
    // Captures start with the first viewer and stop 0.2 s after the last: the server not measured idles.
    const common = { kind: 'edgecam', fps: FPS, framing: 'v2', idleStopSeconds: 0.2 };
    const servers = { one: await start({ ...common, cameras: 1 }), four: await start({ ...common, cameras: CAMERAS }) };
    const counts = { one: 1, four: CAMERAS };
    const results = { one: [], four: [] };
    // One untimed round, so both servers and the viewers' code are warm.
    for (const name of ['one', 'four']) {
      await measure(servers[name], counts[name], { warmMs: 300, windowMs: 300 });
      await sleep(500);
    }
    for (let r = 0; r < runs; r++) {
      for (const name of rotated(['one', 'four'], r)) {
        results[name].push(await measure(servers[name], counts[name], timing));
        await sleep(500); // the captures stop 0.2 s after the viewers leave
      }
    }

    const ratio = ratioOf(results.four.map((m, i) => m.cpuUsPerFrame / results.one[i].cpuUsPerFrame));
    // Each viewer's median share over the runs (viewer i is on the same camera in every run).
    const viewerMedians = (name) => results[name][0].shares.map((_, i) => stats(results[name].map((m) => m.shares[i])).median);
    const lowestRun = (name) => Math.min(...results[name].flatMap((m) => m.shares));
    const worstViewer = Math.min(...viewerMedians('four'), ...viewerMedians('one'));
    const label = { one: 'one camera, 10 viewers', four: `${CAMERAS} cameras, 10 viewers each` };
    const rows = ['one', 'four'].map((name) => {
      const ms = results[name];
      const cpu = stats(ms.map((m) => m.cpuUsPerFrame));
      const rss = stats(ms.map((m) => m.rss / 2 ** 20));
      const medians = viewerMedians(name);
      return {
        case: label[name],
        viewers: counts[name] * VIEWERS,
        'frames delivered/s': round(stats(ms.map((m) => m.deliveredFps)).median, 0),
        'server CPU (cores)': round(stats(ms.map((m) => m.cores)).median, 2),
        'server CPU µs/delivered frame (min–max)': `${round(cpu.median, 1)} (${round(cpu.min, 1)}–${round(cpu.max, 1)})`,
        'lowest viewer share, median over runs': `${round(Math.min(...medians) * 100, 1)}%`,
        'lowest share in any run': `${round(lowestRun(name) * 100, 1)}%`,
        'RSS MiB (min–max)': `${round(rss.median, 0)} (${round(rss.min, 0)}–${round(rss.max, 0)})`,
        'µs/frame / one camera (min–max)': name === 'one' ? '1' : `${ratio.median} (${ratio.min}–${ratio.max})`,
      };
    });
    const sourceFps = stats(results.four.map((m) => m.sourceFps)).median;
    return {
      id: 'cameras',
      title: 'Four cameras at 720p30, ten viewers each',
      baseline: 'one camera with ten viewers, same server and frames',
      goal: `CPU per delivered frame <= ${GOAL_RATIO}x, every viewer >= ${GOAL_SHARE * 100}% of its camera's frames`,
      goalMet: quick ? null : ratio.median <= GOAL_RATIO && worstViewer >= GOAL_SHARE,
      ratio,
      rows,
      notes: [
        `Measured: the server's CPU per delivered frame with ${CAMERAS} cameras is ${ratio.median} times the one-camera figure (spread ${ratio.min}–${ratio.max} over ${ratio.runs} runs; goal <= ${GOAL_RATIO}); the lowest viewer's median share of its camera's frames is ${round(worstViewer * 100, 1)}% (goal >= ${GOAL_SHARE * 100}% for each of the ${CAMERAS * VIEWERS + VIEWERS} viewers).`,
        `${jpegs.length} pre-encoded 1280x720 JPEGs (mean ${round(meanJpeg / 1024, 1)} KiB) cycled from memory, one paced source per camera at ${FPS} fps (the ${CAMERAS}-camera sources ran at ${round(sourceFps, 1)} fps, median), so the server's CPU is node's own, without ffmpeg. Each server is edgecam-server with a \`cameras:\` configuration (cam1..camN) in its own process; the v2 viewers, in the benchmark's process, name their camera in HELLO.`,
        `${runs} runs of each case, alternating, each ${timing.windowMs} ms after ${timing.warmMs} ms of warm-up on fresh connections; a viewer's share counts the sequence numbers of its camera's window it received; CPU per delivered frame is the server's user + system time over the frames all viewers received in the window; RSS is read after a garbage collection at the end of each window.`,
      ],
    };
  });
}

await runStandalone(import.meta.url, run);
