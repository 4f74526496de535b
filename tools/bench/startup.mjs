#!/usr/bin/env node
// Start-up benchmark (issue 29): edgecam-server's time from spawn to listening, against a bare
// node:net server started the same way in the same run.
//
// Each run starts, one after another in an order that rotates from run to run:
//   - net: `node -e <a net server that only listens>`; listening is the first TCP connection it accepts;
//   - http: a bare node:http MJPEG server; listening is its first HTTP answer;
//   - edgecam: `node bin/edgecam-server.js --size 640x480` as a user starts it (the bundle, one
//     test-pattern camera, logs at warn); listening is its first answer to GET /status, which comes
//     after its TCP server listens;
//   - edgecam, tsc output: `node dist/cli.js`, the same server unbundled (what the bundle saves).
// Each is polled every 5 ms from the moment it is spawned; ratio = edgecam / net per run, median.
//
// Usage: node tools/bench/startup.mjs [--quick] [--json]
import { fileURLToPath } from 'node:url';
import { BARE_HTTP, BARE_NET, SERVER_BIN, freePort, spawnNode, waitHttp, waitTcp } from './support/commands.mjs';
import { writeJpegs } from './support/frames.mjs';
import { withTempDir } from './support/setup.mjs';
import { ratioOf, rotated, round, runStandalone, stats } from './support/stats.mjs';

const GOAL_MS = 250;
const TSC_CLI = fileURLToPath(new URL('../dist/cli.js', new URL(`file://${SERVER_BIN}`)));

const KINDS = {
  net: { label: 'bare node:net server (baseline)', how: 'first TCP connection accepted' },
  http: { label: 'bare node:http MJPEG server', how: 'first answer to GET /' },
  edgecam: { label: 'edgecam-server (bin, bundled)', how: 'first answer to GET /status' },
  unbundled: { label: 'edgecam-server from tsc output (node dist/cli.js)', how: 'first answer to GET /status' },
};

async function startOnce(kind, dir) {
  const port = await freePort();
  // Its TCP port is any free one (0): only HTTP, which listens last, is polled.
  const serverArgs = (entry) => [entry, '--host', '127.0.0.1', '--port', '0', '--http-port', String(port), '--size', '640x480', '--log-level', 'warn'];
  let proc;
  let ready;
  if (kind === 'net') {
    proc = spawnNode(['--input-type=module', '-e', BARE_NET, String(port)]);
    ready = waitTcp(port, proc);
  } else if (kind === 'http') {
    proc = spawnNode(['--input-type=module', '-e', BARE_HTTP, dir, String(port)]);
    ready = waitHttp(port, '/', proc);
  } else {
    proc = spawnNode(serverArgs(kind === 'edgecam' ? SERVER_BIN : TSC_CLI));
    ready = waitHttp(port, '/status', proc);
  }
  try {
    return (await ready) - proc.spawnedAt;
  } finally {
    await proc.stop();
  }
}

/** Runs the benchmark and resolves to the BenchResult that tools/bench/run.mjs expects. */
export async function run({ quick = false } = {}) {
  const runs = quick ? 3 : 15;
  return withTempDir('startup', async (dir) => {
    await writeJpegs(dir, { width: 640, height: 480, count: 30 });
    const t = Object.fromEntries(Object.keys(KINDS).map((k) => [k, []]));
    // One unmeasured start of each first: the first spawn after a build reads cold files.
    for (const kind of Object.keys(KINDS)) await startOnce(kind, dir);
    for (let r = 0; r < runs; r++) for (const kind of rotated(Object.keys(KINDS), r)) t[kind].push(await startOnce(kind, dir));
    const ratio = ratioOf(t.edgecam.map((e, i) => e / t.net[i]));
    const cell = (xs) => {
      const s = stats(xs);
      return `${round(s.median, 0)} (${round(s.min, 0)}–${round(s.max, 0)})`;
    };
    const edgecam = stats(t.edgecam).median;
    return {
      id: 'startup',
      title: 'Start-up: spawn to listening',
      baseline: 'a bare node:net server that only listens, spawned the same way (time to its first accepted connection)',
      goal: `edgecam-server answers HTTP within ${GOAL_MS} ms of being spawned`,
      goalMet: quick ? null : edgecam < GOAL_MS,
      ratio,
      rows: Object.entries(KINDS).map(([kind, k]) => ({
        process: k.label,
        'listening when': k.how,
        'spawn to listening ms (min–max)': cell(t[kind]),
        'this / bare net server (min–max)': kind === 'net' ? '1' : (({ median, min, max }) => `${median} (${min}–${max})`)(ratioOf(t[kind].map((x, i) => x / t.net[i]))),
      })),
      notes: [
        `Goal: edgecam-server answers GET /status ${round(edgecam, 0)} ms (median of ${runs} runs) after it is spawned, goal under ${GOAL_MS} ms: ${quick ? 'not judged in --quick' : edgecam < GOAL_MS ? 'met' : 'not met'}; ${ratio.median} (${ratio.min}–${ratio.max}) times a bare node:net server's time to listen. The same server from tsc's output (several hundred modules instead of one bundle) takes ${round(stats(t.unbundled).median, 0)} ms.`,
        `${runs} runs, each starting the four processes one after another in an order that rotates from run to run, after one unmeasured start of each; every process is spawned with \`node\` from the benchmark and polled every 5 ms until it answers, then stopped. Node itself (a process that only listens) is most of the bare servers' time.`,
        'What edgecam-server does before it answers: Node start-up, its bundle (dist/bundle/cli.cjs, compiled code from its V8 code cache: commander, zod and the option table, pino, rxjs, the TCP and HTTP sides), the configuration, finding ffmpeg, and listening on TCP then HTTP. It loads a feature (recording, motion, H.264/WebRTC, publishing, snapshots), the events outputs (webhooks, MQTT, clips), YAML and prom-client only when the configuration or a request asks for them.',
      ],
    };
  });
}

await runStandalone(import.meta.url, run);
