// What a user of a board gets: each package packed (`npm pack`), the tarballs installed with
// `npm install -g` into an empty prefix, and the installed commands run from an empty directory,
// far from this checkout. The packages' prepack builds them; here Nx has built them already
// (tools depends on all four), so packing skips that. npm answers from its cache
// (--prefer-offline) and asks the registry only for what the cache lacks.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = ['protocol', 'recorder', 'motion', 'edge-server', 'client-cli'] as const;
// npm installs about 85 packages: a 2-core machine shared by eight test runs needs minutes.
const STEP_MS = 600_000;
const RUN_MS = 60_000;

let work: string;
let prefix: string;
let tarballs: string[];
const children = new Set<ChildProcess>();

/** Where a package lands under the prefix. */
const installed = (name: string) => join(prefix, 'lib/node_modules/@edgecam', name);
/** The environment of a user's shell: the prefix's bin on PATH, nothing from this checkout. */
const userEnv = () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}` };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') || key === 'NODE_PATH' || key.startsWith('VITEST')) delete env[key];
  return env;
};

/** Unpacks one file of a tarball to a string. */
async function fileInTarball(tarball: string, path: string): Promise<string> {
  const { stdout } = await run('tar', ['-xzOf', tarball, `package/${path}`], { maxBuffer: 8 * 1024 * 1024 });
  return stdout;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'edgecam-global-'));
  prefix = join(work, 'prefix');
  const packs = join(work, 'packs');
  mkdirSync(packs, { recursive: true });
  for (const p of PACKAGES) {
    const built = join(root, 'packages', p, 'dist/index.js');
    if (!existsSync(built)) throw new Error(`${built} is missing: build first (npm run build; npm test does)`);
  }
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packs, ...PACKAGES.flatMap((p) => ['-w', `packages/${p}`])], {
    cwd: root,
    timeout: STEP_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  tarballs = (JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[]).map((p) => join(packs, p.filename));
  await run('npm', ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, ...tarballs], {
    cwd: work,
    timeout: STEP_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
}, 2 * STEP_MS);

afterAll(async () => {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  // The prefix holds ffmpeg and about 85 packages: on a busy disk removing it takes a minute.
  if (work) await rm(work, { recursive: true, force: true });
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
    const server = spawn(
      join(prefix, 'bin/edgecam-server'),
      ['--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--source', 'testsrc', '--size', '320x240', '--fps', '10'],
      { cwd, env: userEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.add(server);
    let stderr = '';
    server.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner within ${RUN_MS} ms; stderr: ${stderr}`)), RUN_MS);
      const look = () => {
        const found = /tcp:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
        if (found && stderr.includes('  ffmpeg: ')) {
          clearTimeout(timer);
          server.stderr!.off('data', look);
          resolve(found[1]!);
        }
      };
      server.stderr!.on('data', look);
      server.once('exit', (code) => reject(new Error(`edgecam-server exited (${code}) before its banner: ${stderr}`)));
    });
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
    const exit = new Promise<number | null>((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
