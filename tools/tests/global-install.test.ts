// What a user of a board gets: each package packed (`npm pack`), the tarballs installed with
// `npm install -g` into an empty prefix, and the installed commands run from an empty directory,
// far from this checkout. The packages' prepack builds them; here Nx has built them already
// (tools depends on all four), so packing skips that. npm answers from its cache
// (--prefer-offline) and asks the registry only for what the cache lacks.
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJpegInfo } from '@edgecam/protocol';
import {
  Children,
  type Installed,
  MjpegViewer,
  PACKAGES,
  RUN_MS,
  STEP_MS,
  fetchJpeg,
  freePort,
  installedPackage,
  pollUntil,
  packAndInstall,
  removeInstall,
  root,
  run,
  startInstalledServer,
  stderrMatch,
  stopChild,
  userEnv as userEnvOf,
} from './support/installed.js';

let install: Installed | undefined;
let work: string;
let prefix: string;
let tarballs: string[];
const children = new Children();

const installed = (name: string) => installedPackage(prefix, name);
const userEnv = () => userEnvOf(prefix);

/** Unpacks one file of a tarball to a string. */
async function fileInTarball(tarball: string, path: string): Promise<string> {
  const { stdout } = await run('tar', ['-xzOf', tarball, `package/${path}`], { maxBuffer: 8 * 1024 * 1024 });
  return stdout;
}

beforeAll(async () => {
  install = await packAndInstall();
  ({ work, prefix, tarballs } = install);
}, 2 * STEP_MS);

afterAll(async () => {
  await children.stopAll();
  await removeInstall(install);
}, STEP_MS / 2);

describe('the packed packages', () => {
  it('each hold its README and built dist, and the server its schema and example config', async () => {
    for (const tarball of tarballs) {
      const { stdout } = await run('tar', ['-tzf', tarball]);
      const files = stdout.split('\n');
      expect(files, tarball).toContain('package/README.md');
      expect(files, tarball).toContain('package/dist/index.js');
      expect(files, tarball).toContain('package/dist/index.d.ts');
      expect(files.filter((f) => f.startsWith('package/src/') || f.startsWith('package/tests/')), tarball).toEqual([]);
    }
    const server = tarballs.find((t) => t.includes('edge-server'))!;
    const files = (await run('tar', ['-tzf', server])).stdout.split('\n');
    for (const f of ['bin/edgecam-server.js', 'dist/cli.js', 'edgecam.schema.json', 'edgecam.example.yaml', 'systemd/edgecam-server.service']) {
      expect(files).toContain(`package/${f}`);
    }
    expect(JSON.parse(await fileInTarball(server, 'edgecam.schema.json'))).toHaveProperty('properties');
  });

  it('depend on each other by exact version, never by workspace link or *', async () => {
    for (const tarball of tarballs) {
      const pkg = JSON.parse(await fileInTarball(tarball, 'package.json')) as Record<string, Record<string, string> | undefined>;
      for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies'] as const) {
        for (const [name, range] of Object.entries(pkg[field] ?? {})) {
          if (name.startsWith('@edgecam/')) expect(range, `${tarball} ${field} ${name}`).toMatch(/^\d+\.\d+\.\d+$/);
          expect(range, `${tarball} ${field} ${name}`).not.toMatch(/^(\*|workspace:|file:|link:)/);
        }
      }
    }
  });
});

describe('the packages installed with npm install -g into an empty prefix', () => {
  it('are real directories under the prefix, not links into this checkout', () => {
    for (const name of PACKAGES) {
      expect(lstatSync(installed(name)).isSymbolicLink(), name).toBe(false);
      expect(relative(root, realpathSync(installed(name))).startsWith('..'), name).toBe(true);
    }
    expect(readdirSync(join(prefix, 'bin')).sort()).toEqual(['edgecam', 'edgecam-server']);
  });

  it('edgecam-server --version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'packages/edge-server/package.json'), 'utf8')) as { version: string };
    const { stdout } = await run(join(prefix, 'bin/edgecam-server'), ['--version'], { cwd: work, env: userEnv(), timeout: RUN_MS });
    expect(stdout.trim()).toBe(version);
  });

  it('edgecam-server install-service --dry-run points the unit at the installed package', async () => {
    const { stdout } = await run(join(prefix, 'bin/edgecam-server'), ['install-service', '--dry-run'], { cwd: work, env: userEnv(), timeout: RUN_MS });
    const bin = join(realpathSync(installed('edge-server')), 'bin/edgecam-server.js');
    expect(stdout).toContain(`\nExecStart=${process.execPath} ${bin} --config /etc/edgecam/edgecam.yaml\n`);
  });

  it('edgecam-server serves a test pattern and the installed edgecam takes a snapshot of it', { timeout: 2 * RUN_MS }, async () => {
    const cwd = mkdtempSync(join(work, 'run-'));
    const started = await startInstalledServer(
      prefix,
      ['--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--source', 'testsrc', '--size', '320x240', '--fps', '10'],
      cwd,
      children,
    );
    const server = started.child;
    const port = String(started.tcpPort);
    const stderr = started.stderr();
    expect(stderr).toContain('@ffmpeg-installer/ffmpeg');
    const out = join(cwd, 'shot.jpg');
    await run(join(prefix, 'bin/edgecam'), ['--host', '127.0.0.1', '--port', port, 'snapshot', '-o', out], {
      cwd,
      env: userEnv(),
      timeout: RUN_MS,
    });
    const jpeg = readFileSync(out);
    expect(statSync(out).size).toBeGreaterThan(100);
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(jpeg.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    expect(await stopChild(server)).toBe(0);
  });
});

// The Done-when of the several-cameras work: one config file with two test patterns and an HTTP
// MJPEG camera pulled from another installed edgecam-server, each reachable over HTTP, v2 and its
// own legacy port, and a size changed while an HTTP viewer and a v2 recording watch.
describe('three cameras from one config file, run from the installed package', () => {
  const SIZES = { big: { width: 320, height: 240 }, small: { width: 160, height: 120 }, relay: { width: 256, height: 192 } } as const;
  const NAMES = Object.keys(SIZES) as (keyof typeof SIZES)[];
  const seedClient = join(root, 'packages/edge-server/tests/seed_client.py');
  let cwd: string;
  let upstream: Awaited<ReturnType<typeof startInstalledServer>>;
  let server: Awaited<ReturnType<typeof startInstalledServer>>;
  let legacyPorts: Record<keyof typeof SIZES, number>;
  let http: string;
  const viewers: MjpegViewer[] = [];

  const edgecam = (args: string[]) => run(join(prefix, 'bin/edgecam'), ['--host', '127.0.0.1', ...args], { cwd, env: userEnv(), timeout: RUN_MS });
  /** A snapshot by the installed client, and its size from its SOF. */
  const snapshot = async (args: string[], file: string) => {
    await edgecam([...args, 'snapshot', '-o', join(cwd, file)]);
    return readJpegInfo(readFileSync(join(cwd, file)));
  };
  const view = async (path: string) => {
    const v = await MjpegViewer.open(`${http}${path}`);
    viewers.push(v);
    return v;
  };

  beforeAll(async () => {
    cwd = mkdtempSync(join(work, 'cams-'));
    upstream = await startInstalledServer(
      prefix,
      ['--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--source', 'testsrc', '--size', '256x192', '--fps', '10', '--max-per-address', '0'],
      cwd,
      children,
    );
    legacyPorts = { big: await freePort(), small: await freePort(), relay: await freePort() };
    const config = join(cwd, 'edgecam.yaml');
    writeFileSync(
      config,
      [
        'host: 127.0.0.1',
        'port: 0',
        'httpPort: 0',
        'fps: 10',
        'idleStop: 2',
        'maxPerAddress: 0',
        'cameras:',
        '  big:',
        '    source: testsrc',
        '    size: 320x240',
        `    legacyPort: ${legacyPorts.big}`,
        '  small:',
        '    source: testsrc',
        '    size: 160x120',
        // The test raises its size over HTTP; settings stay within the configured ceiling.
        '    maxSize: 320x240',
        `    legacyPort: ${legacyPorts.small}`,
        '  relay:',
        `    source: http://127.0.0.1:${upstream.httpPort}/stream.mjpg`,
        `    legacyPort: ${legacyPorts.relay}`,
        '',
      ].join('\n'),
    );
    server = await startInstalledServer(prefix, ['--config', config], cwd, children);
    http = `http://127.0.0.1:${server.httpPort}`;
  }, 2 * RUN_MS);

  afterAll(async () => {
    for (const v of viewers) v.close();
    const codes = await Promise.all([server, upstream].filter(Boolean).map((s) => stopChild(s.child)));
    expect(codes).toEqual(codes.map(() => 0));
  }, RUN_MS);

  it('edgecam cameras lists the three, the first the default', async () => {
    const { stdout } = await edgecam(['--port', String(server.tcpPort), 'cameras', '--json']);
    expect(JSON.parse(stdout)).toMatchObject({ protocol: 'v2', cameras: ['big', 'small', 'relay'], default: 'big' });
  });

  it('serves each camera over HTTP: its snapshot and its stream at its own size', { timeout: 2 * RUN_MS }, async () => {
    for (const name of NAMES) {
      const v = await view(`/cams/${name}/stream.mjpg`);
      await v.until(() => v.sizes.length >= 3, RUN_MS, `three parts of ${name}`);
      expect(v.sizes, name).toEqual(v.sizes.map(() => SIZES[name]));
      v.close();
      expect(await fetchJpeg(`${http}/cams/${name}/snapshot.jpg`), name).toEqual({ status: 200, size: SIZES[name] });
    }
  });

  it('serves each camera over v2 to edgecam --camera', { timeout: 2 * RUN_MS }, async () => {
    for (const name of NAMES) expect(await snapshot(['--port', String(server.tcpPort), '--camera', name], `v2-${name}.jpg`), name).toEqual(SIZES[name]);
  });

  it("serves each camera alone on its legacyPort, to edgecam --protocol legacy and to the seed's client", { timeout: 2 * RUN_MS }, async () => {
    for (const name of NAMES) {
      const port = String(legacyPorts[name]);
      expect(await snapshot(['--port', port, '--protocol', 'legacy'], `legacy-${name}.jpg`), name).toEqual(SIZES[name]);
      const { stdout } = await run('python3', [seedClient, '127.0.0.1', port, '5'], { timeout: RUN_MS });
      expect(JSON.parse(stdout), name).toMatchObject({ stream_frames: 5, closed_by_server: true });
    }
  });

  it('changes a size while an HTTP viewer and a v2 recording watch: both keep receiving and the new size arrives', { timeout: 3 * RUN_MS }, async () => {
    const viewer = await view('/cams/small/stream.mjpg');
    const output = join(cwd, 'small.mjpeg');
    const record = children.add(
      spawn(join(prefix, 'bin/edgecam'), ['--host', '127.0.0.1', '--port', String(server.tcpPort), '--camera', 'small', 'record', '-o', output, '--json'], {
        cwd,
        env: userEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let summary = '';
    record.stdout!.setEncoding('utf8').on('data', (t: string) => (summary += t));
    await viewer.until(() => viewer.sizes.length >= 2, RUN_MS, 'two parts');
    // The recording's file exists once its first frame is written: from then on it is 160x120.
    await pollUntil(() => existsSync(output) && statSync(output).size > 0, RUN_MS, `frames in ${output}`);
    const refused = stderrMatch(record, /frame refused: a 192x144 frame in a 160x120 recording/, 2 * RUN_MS, 'a 192x144 frame at the recording');

    const res = await fetch(`${http}/cams/small/settings`, { method: 'PUT', body: JSON.stringify({ width: 192, height: 144 }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ camera: 'small', settings: { width: 192, height: 144 } });

    const resized = () => viewer.sizes.findIndex((s) => s.width === 192 && s.height === 144);
    await viewer.until(() => resized() >= 0 && viewer.sizes.length >= resized() + 3, 2 * RUN_MS, 'three parts at 192x144');
    expect(viewer.error).toBeNull();
    expect(viewer.sizes.slice(resized())).toEqual(viewer.sizes.slice(resized()).map(() => ({ width: 192, height: 144 })));
    await refused;

    expect(await stopChild(record, 'SIGINT')).toBe(0);
    const result = JSON.parse(summary) as { frames: number; width: number; height: number; rejected: number; protocol: string; stoppedBy: string };
    expect(result).toMatchObject({ width: 160, height: 120, protocol: 'v2', stoppedBy: 'signal' });
    expect(result.frames).toBeGreaterThan(0);
    expect(result.rejected).toBeGreaterThan(0);
    expect(await fetchJpeg(`${http}/cams/small/snapshot.jpg`)).toEqual({ status: 200, size: { width: 192, height: 144 } });
  });
});
