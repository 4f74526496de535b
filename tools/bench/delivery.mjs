#!/usr/bin/env node
// Delivery benchmark: frames and bytes per second from edgecam-server to one client on loopback,
// against a plain Node socket server writing the same length-prefixed bytes.
//
// Both servers run in a child process each, fed the same pre-encoded 1280x720 JPEGs from memory
// with no pacing (support/memory-source.mjs: edgecam's source has a new frame ready whenever a
// session takes one; the plain server writes the next frame whenever its socket has room), so
// the source is never the bottleneck. The client, in this process, is the same for both: it
// asks for the stream and counts whole frames without copying them (support/stream-client.mjs).
// Runs alternate between the servers so both see the same machine noise; each run measures one
// fresh connection over a fixed window after a warm-up.
// The figure is fps(edgecam) / fps(plain) per run, median over runs; the headline is the worse of
// the legacy and v2 clients.
//
// Usage: node tools/bench/delivery.mjs [--quick] [--json]   (needs the packages built)
import { withServers } from './support/setup.mjs';
import { ratioOf, rotated, round, runStandalone, sleep, stats } from './support/stats.mjs';
import { openStreamClient } from './support/stream-client.mjs';

// Issue 29: delivery to one client at least 0.9 of a bare socket.
const GOAL = 0.9;

async function measure(server, framing, { warmMs, windowMs }) {
  const client = await openStreamClient(server.port, { framing });
  await sleep(warmMs);
  const u0 = await server.usage();
  const c0 = process.cpuUsage();
  const f0 = client.frames;
  const b0 = client.bytes;
  const t0 = performance.now();
  await sleep(windowMs);
  const f1 = client.frames;
  const b1 = client.bytes;
  const t1 = performance.now();
  const c1 = process.cpuUsage(c0);
  const u1 = await server.usage();
  client.close();
  if (client.error) throw client.error;
  const seconds = (t1 - t0) / 1000;
  const frames = f1 - f0;
  if (frames <= 0) throw new Error(`no frame reached the ${framing} client in ${windowMs} ms`);
  return {
    fps: frames / seconds,
    bytesPerSecond: (b1 - b0) / seconds,
    serverCpu: (u1.cpuUs - u0.cpuUs) / 1e6 / seconds, // cores
    cpuUsPerFrame: (u1.cpuUs - u0.cpuUs) / frames,
    clientCpu: (c1.user + c1.system) / 1e6 / seconds,
    clientCpuUsPerFrame: (c1.user + c1.system) / frames,
    rssMiB: u1.rss / 2 ** 20,
  };
}

export async function run({ quick = false } = {}) {
  // Many short runs rather than a few long ones: on these shared VMs the machine's speed swings
  // by several times within seconds, and a ratio of two neighbouring short runs shares more of it.
  // 25 runs: with 15, two full runs' medians (0.74, 0.86) missed each other's spreads.
  const runs = quick ? 1 : 25;
  const timing = quick ? { warmMs: 150, windowMs: 300 } : { warmMs: 250, windowMs: 750 };
  return withServers('delivery', { quick }, async ({ jpegs, meanJpeg, start }) => {
    const edgecam = await start({ kind: 'edgecam', fps: 0, idleStopSeconds: 0.1 });
    const plain = await start({ kind: 'plain', fps: 0 });

    const cases = {
      'edgecam-server, legacy client': () => measure(edgecam, 'v1', timing),
      'edgecam-server, v2 client': () => measure(edgecam, 'v2', timing),
      'plain Node socket (baseline)': () => measure(plain, 'v1', timing),
    };
    const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    // One untimed round, so both servers and the client are warm.
    for (const fn of Object.values(cases)) await fn();
    for (let r = 0; r < runs; r++) {
      for (const name of rotated(Object.keys(cases), r)) {
        results[name].push(await cases[name]());
        await sleep(150); // edgecam's capture stops 0.1 s after its client leaves
      }
    }

    const base = results['plain Node socket (baseline)'];
    const vsBase = (name) => results[name].map((m, i) => m.fps / base[i].fps);
    const legacy = ratioOf(vsBase('edgecam-server, legacy client'));
    const v2 = ratioOf(vsBase('edgecam-server, v2 client'));
    const ratio = v2.median < legacy.median ? v2 : legacy;
    const cpuPerFrame = (name) => stats(results[name].map((m) => m.cpuUsPerFrame)).median;
    const cpuOurs = cpuPerFrame('edgecam-server, legacy client');
    const cpuBase = cpuPerFrame('plain Node socket (baseline)');
    const clientCpu = stats(Object.values(results).flat().map((m) => m.clientCpu)).median;
    const serverCpu = stats(Object.values(results).flat().map((m) => m.serverCpu)).median;
    const rows = Object.keys(cases).map((name) => {
      const ms = results[name];
      const fps = stats(ms.map((m) => m.fps));
      const r = name.startsWith('plain') ? null : ratioOf(vsBase(name));
      return {
        server: name,
        'fps (min–max)': `${round(fps.median, 0)} (${round(fps.min, 0)}–${round(fps.max, 0)})`,
        'MB/s': round(stats(ms.map((m) => m.bytesPerSecond)).median / 1e6, 0),
        'server CPU (cores)': round(stats(ms.map((m) => m.serverCpu)).median, 2),
        'server CPU µs/frame': round(stats(ms.map((m) => m.cpuUsPerFrame)).median, 0),
        'client CPU (cores)': round(stats(ms.map((m) => m.clientCpu)).median, 2),
        'client CPU µs/frame': round(stats(ms.map((m) => m.clientCpuUsPerFrame)).median, 0),
        'server RSS MiB (min–max)': (() => {
          const r = stats(ms.map((m) => m.rssMiB));
          return `${round(r.median, 1)} (${round(r.min, 1)}–${round(r.max, 1)})`;
        })(),
        'fps / baseline (min–max)': r ? `${r.median} (${r.min}–${r.max})` : '1',
      };
    });
    return {
      id: 'delivery',
      title: 'Delivery to one client (unthrottled source)',
      baseline: 'a plain Node socket server writing the same [u32 length][JPEG] frames as fast as the socket takes them',
      goal: `>= ${GOAL}`,
      goalMet: quick ? null : ratio.median >= GOAL,
      ratio,
      rows,
      notes: [
        `${jpegs.length} pre-encoded 1280x720 JPEGs (mean ${round(meanJpeg / 1024, 1)} KiB) cycled from memory; each server in its own process, the client in the benchmark's; ${runs} runs of ${timing.windowMs} ms after ${timing.warmMs} ms of warm-up, servers alternating; the ratio is fps(edgecam) / fps(baseline) per run, median, and the headline is the worse client (legacy ${legacy.median}, v2 ${v2.median}).`,
        'edgecam-server runs as in production (one frame in flight per client, newest frame wins, per-client stats, metrics, info logs written to /dev/null). Its in-memory source hands over a new frame on the event-loop turn after the previous one was taken for sending, so one always waits for the socket and none is made only to be dropped (support/memory-source.mjs).',
        'Server CPU µs/frame is the server process\'s user + system time over the frames delivered: when the client or the kernel is what limits fps, it still shows what each frame costs us against the baseline.',
        `What limits fps in this run: the servers used ${round(serverCpu, 2)} of a core and the client process ${round(clientCpu, 2)} (medians), so ${serverCpu < 0.8 && clientCpu > serverCpu ? 'neither server is CPU-bound: the receiving side and the shared machine set the pace, and the fps ratio mostly says whether edgecam keeps the pipe as full as a bare socket does' : 'the servers set the pace'}. Per frame, edgecam-server spent ${round(cpuOurs, 1)} µs of CPU against the baseline's ${round(cpuBase, 1)} µs (${round(cpuOurs / cpuBase, 2)} times): the session, the hub, metrics and logs, at 30 fps ${round((cpuOurs * 30) / 1e4, 3)}% of a core per client.`,
        'The v2 client is compared with the same legacy baseline: its 17-byte header instead of 4 is 0.01% of a frame.',
        'Server RSS is the server process\'s resident memory at the end of each window (no forced GC): what one streaming client costs beside CPU; footprint.mjs measures the real server\'s idle and streaming RSS, fanout.mjs the memory per extra client.',
        `Client CPU per frame: ${round(stats(results['edgecam-server, legacy client'].map((m) => m.clientCpuUsPerFrame)).median, 0)} µs receiving from edgecam-server (legacy) against ${round(stats(base.map((m) => m.clientCpuUsPerFrame)).median, 0)} µs from the baseline. edgecam keeps one frame in flight per client (the next is written when the socket has taken the last, so a slow client gets the newest frame, never a queue) where the baseline writes until the socket refuses; when the client is the bottleneck, more and smaller reads on its side can lower the fps ratio without costing the server more.`,
      ],
    };
  });
}

await runStandalone(import.meta.url, run);
