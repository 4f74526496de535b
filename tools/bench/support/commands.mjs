// The real commands as a user runs them (`edgecam-server`, `node` with a bare server script), for
// the benchmarks that measure whole processes: start-up, memory over time. Each is spawned on
// free loopback ports and stopped (SIGTERM, then SIGKILL) by stop() or when the benchmark exits.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sleep } from './stats.mjs';

/** The installed command, beside the package's entry (dist/index.js). */
export const SERVER_BIN = fileURLToPath(new URL('../bin/edgecam-server.js', pathToFileURL(createRequire(import.meta.url).resolve('@edgecam/edge-server'))));

/**
 * A bare node:http server doing an MJPEG server's job: the JPEGs of a folder, cycled at 30 fps,
 * to every viewer of /stream.mjpg (or /cams/NAME/stream.mjpg for each of `cameras` names), one
 * frame in flight per viewer. The least a Node process needs to do the same job.
 */
export const BARE_HTTP = `
import { createServer } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
const [dir, port, cameras = ''] = process.argv.slice(1);
const jpegs = readdirSync(dir).filter((n) => n.endsWith('.jpg')).sort().map((n) => readFileSync(join(dir, n)));
const streams = new Map((cameras ? cameras.split(',').map((c) => '/cams/' + c + '/stream.mjpg') : ['/stream.mjpg']).map((p) => [p, new Set()]));
let i = 0;
setInterval(() => {
  const jpeg = jpegs[i++ % jpegs.length];
  for (const viewers of streams.values()) for (const res of viewers) {
    if (res.writableLength > 0) continue;
    res.write('--frame\\r\\nContent-Type: image/jpeg\\r\\nContent-Length: ' + jpeg.length + '\\r\\n\\r\\n');
    res.write(jpeg);
    res.write('\\r\\n');
  }
}, 1000 / 30);
createServer((req, res) => {
  const viewers = streams.get(req.url);
  if (!viewers) return res.end('ok');
  res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace; boundary=frame' });
  viewers.add(res);
  res.on('close', () => viewers.delete(res));
}).listen(Number(port), '127.0.0.1');
`;

/** A bare node:net server that only listens: what Node itself needs to start listening. */
export const BARE_NET = `
import { createServer } from 'node:net';
createServer((s) => s.end()).listen(Number(process.argv[1]), '127.0.0.1');
`;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const live = new Set();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Kills `child` (SIGKILL) if it still runs when the benchmark exits, whatever happens. */
export function killOnExit(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/**
 * Spawns `node [nodeArgs] args` (or `wrap(node, …)` for a cgroup); resolves at once to
 * { child, pid, stderr(), spawnedAt, stop() }. pid is node's own (the wrapper execs it).
 */
export function spawnNode(args, { nodeArgs = [], env = {}, wrap } = {}) {
  const argv = [...nodeArgs, ...args];
  const [cmd, cmdArgs] = wrap ? wrap(process.execPath, argv) : [process.execPath, argv];
  const spawnedAt = performance.now();
  const child = killOnExit(spawn(cmd, cmdArgs, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, EDGECAM_CONFIG: '', ...env } }));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-8192)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    pid: child.pid,
    spawnedAt,
    exited,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
  };
}

/** Resolves once GET path answers on port (any status), polling every 5 ms; the time it answered. */
export async function waitHttp(port, path, proc, deadlineMs = 60_000) {
  const until = performance.now() + deadlineMs;
  while (performance.now() < until) {
    if (proc.child.exitCode !== null) throw new Error(`process exited with ${proc.child.exitCode} before answering: ${proc.stderr().trim()}`);
    const ok = await new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) return performance.now();
    await sleep(5);
  }
  throw new Error(`nothing answered on ${port} within ${deadlineMs} ms`);
}

/** Resolves once a TCP connection to port is accepted, polling every 5 ms; the time it was. */
export async function waitTcp(port, proc, deadlineMs = 60_000) {
  const until = performance.now() + deadlineMs;
  while (performance.now() < until) {
    if (proc.child.exitCode !== null) throw new Error(`process exited with ${proc.child.exitCode} before listening: ${proc.stderr().trim()}`);
    const ok = await new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return performance.now();
    await sleep(5);
  }
  throw new Error(`nothing listened on ${port} within ${deadlineMs} ms`);
}

/** An MJPEG viewer reading path; { bytes(), parts(), close() } (parts: multipart boundaries seen). */
export function viewer(port, path = '/stream.mjpg') {
  let bytes = 0;
  let parts = 0;
  const req = request({ host: '127.0.0.1', port, path }, (res) =>
    res.on('data', (d) => {
      bytes += d.length;
      for (let i = d.indexOf('Content-Type: image/jpeg'); i !== -1; i = d.indexOf('Content-Type: image/jpeg', i + 1)) parts++;
    }),
  );
  req.on('error', () => {});
  req.end();
  return { bytes: () => bytes, parts: () => parts, close: () => req.destroy() };
}

/** VmRSS and its anonymous and file-backed parts of one process, MiB (NaN once it is gone). */
export function memoryOf(pid) {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rss: NaN, anon: NaN, file: NaN };
  }
  const field = (name) => {
    const m = new RegExp(`${name}:\\s+(\\d+) kB`).exec(status);
    return m ? Number(m[1]) / 1024 : NaN;
  };
  return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile') };
}

/** The pids of pid's child processes (its ffmpeg), from /proc; none once it is gone. */
export function childPids(pid) {
  const out = [];
  for (const task of safeList(`/proc/${pid}/task`)) {
    let kids = '';
    try {
      kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const kid of kids.split(' ').filter(Boolean)) out.push(Number(kid));
  }
  return out;
}

/** The RSS of pid's child processes (ffmpeg), MiB. */
export function childrenRss(pid) {
  let total = 0;
  for (const kid of childPids(pid)) total += memoryOf(kid).rss || 0;
  return total;
}

function safeList(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** CPU time (user + system) of one process so far, ms (10 ms ticks). */
export function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
