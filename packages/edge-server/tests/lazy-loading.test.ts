// What the edgecam-server command loads: a feature, a service's output or the metrics library
// that nothing asks for is never loaded (WebRTC alone is a large part of a small board's memory),
// and each is loaded once something does ask. The command runs in a child process with a
// preload (support/module-log.mjs) that lists every module it loads. Our own feature code is in
// the one bundle file (tools/bundle-cli.mjs); V8 compiles a function only when it first runs, so
// what a feature that is off would cost is its packages, checked here.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAedes } from './support/mqtt.js';
import { waitUntil } from './support/wait.js';

const bin = fileURLToPath(new URL('../bin/edgecam-server.js', import.meta.url));
const preload = fileURLToPath(new URL('./support/module-log.mjs', import.meta.url));

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGTERM');
    await exited;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The command started with the module log; `loaded()` reads the list so far. */
async function startLogged(args: string[]): Promise<{ httpPort: number; loaded: () => string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-modules-'));
  dirs.push(dir);
  const log = join(dir, 'modules.txt');
  writeFileSync(log, '');
  const child = spawn(process.execPath, ['--import', preload, bin, ...args], {
    env: { ...process.env, EDGECAM_CONFIG: '', EDGECAM_TEST_MODULE_LOG: log, EDGECAM_HOST: '127.0.0.1', EDGECAM_PORT: '0', EDGECAM_HTTP_PORT: '0', EDGECAM_SIZE: '160x120' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  await waitUntil(() => /"msg":"listening"/.test(out) || child.exitCode !== null, 30_000, () => `the listening line; stderr: ${err}`);
  const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
  if (!line) throw new Error(`edgecam-server exited with ${child.exitCode} before listening: ${err}`);
  const http = (JSON.parse(line) as { http: string }).http;
  return { httpPort: Number(/:(\d+)\/$/.exec(http)![1]), loaded: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

const fromPackage = (name: string) => (m: string) => m.includes(`/node_modules/${name}/`);

describe('what edgecam-server loads', { timeout: 60_000 }, () => {
  it('runs a camera with no features, events or config file without loading them, and loads the metrics library at the first scrape', async () => {
    const server = await startLogged([]);
    const status = await fetch(`http://127.0.0.1:${server.httpPort}/status`);
    expect(status.status).toBe(200);
    const loaded = server.loaded();
    // The log works: it lists the module that runs the bundle.
    expect(loaded.some((m) => m.endsWith('/runtime/dist/run-bundle.js'))).toBe(true);
    for (const pkg of ['werift', 'mqtt', 'yaml', 'prom-client', 'pino-pretty', 'selfsigned']) expect(loaded.filter(fromPackage(pkg)), pkg).toEqual([]);

    const metrics = await fetch(`http://127.0.0.1:${server.httpPort}/metrics`);
    expect(await metrics.text()).toMatch(/^edgecam_process_cpu_user_seconds_total /m);
    expect(server.loaded().some(fromPackage('prom-client'))).toBe(true);
  });

  it('loads WebRTC, the H.264 hub, MQTT and YAML when a config file turns them on', async () => {
    const broker = await startAedes();
    const dir = mkdtempSync(join(tmpdir(), 'edgecam-config-'));
    dirs.push(dir);
    const file = join(dir, 'edgecam.yaml');
    writeFileSync(file, ['h264: {enabled: true}', 'events:', '  mqtt:', `    url: mqtt://127.0.0.1:${broker.port}`, ''].join('\n'));
    const server = await startLogged(['--config', file]);
    await waitUntil(() => server.loaded().some(fromPackage('mqtt')), 20_000, 'mqtt to be loaded');
    const loaded = server.loaded();
    for (const pkg of ['werift', 'yaml']) expect(loaded.some(fromPackage(pkg)), pkg).toBe(true);
  });
});
