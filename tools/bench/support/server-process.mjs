// Parent side of server-child.mjs: starts a benchmark server in its own process and asks it for
// its CPU time and memory. Every child is killed when the parent exits, whatever happens.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const childPath = fileURLToPath(new URL('./server-child.mjs', import.meta.url));
const live = new Set();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts a server child; resolves to { port, httpPort, usage(), stop() } once it listens. */
export function startServerProcess(opts) {
  // EDGECAM_BENCH_CPU_PROF=<dir>: each server child writes a V8 CPU profile there when it stops.
  const profDir = process.env.EDGECAM_BENCH_CPU_PROF;
  const execArgv = ['--expose-gc'];
  if (profDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${opts.kind}-${Date.now()}.cpuprofile`);
  const child = fork(childPath, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let nextId = 0;
  const pending = new Map();
  let failure = null;
  const fail = (err) => {
    failure ??= err;
    for (const { reject } of pending.values()) reject(failure);
    pending.clear();
  };
  child.on('message', (msg) => {
    if (msg.type === 'error') fail(new Error(`benchmark server (${opts.kind}) failed: ${msg.message}`));
    const entry = pending.get(msg.type === 'usage' ? msg.id : msg.type);
    if (!entry) return;
    pending.delete(msg.type === 'usage' ? msg.id : msg.type);
    entry.resolve(msg);
  });
  child.once('exit', (code) => fail(new Error(`benchmark server (${opts.kind}) exited with ${code}`)));
  const request = (key, msg, timeoutMs = 15_000) =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const timer = setTimeout(() => {
        pending.delete(key);
        reject(new Error(`benchmark server (${opts.kind}) did not answer ${msg.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(key, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send(msg);
    });

  return request('ready', { type: 'start', ...opts }, 30_000).then(({ port, httpPort }) => ({
    port,
    httpPort,
    pid: child.pid,
    /** { cpuUs, rss, live, seq, sent, dropped } right now; { gc: true } collects garbage first (after the CPU reading). */
    usage: ({ gc = false } = {}) => {
      const id = ++nextId;
      return request(id, { type: 'usage', id, gc });
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        failure ??= new Error('stopped');
        child.send({ type: 'stop' });
      }),
  }), (err) => {
    child.kill('SIGKILL');
    throw err;
  });
}
