// The packages packed and installed with `npm install -g` into an empty prefix, as a user of
// a board gets them, and the installed commands run from there with nothing from this checkout.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readJpegInfo, type JpegInfo } from '@edgecam/protocol';

export const run = promisify(execFile);
export const root = fileURLToPath(new URL('../../..', import.meta.url));
export const PACKAGES = ['protocol', 'runtime', 'discovery', 'motion', 'recorder', 'edge-server', 'client-cli'] as const;
// npm installs about 85 packages: a 2-core machine shared by eight test runs needs minutes.
export const STEP_MS = 600_000;
export const RUN_MS = 60_000;

/** Packed tarballs installed into `prefix`, under the temporary folder `work`. */
export interface Installed {
  work: string;
  prefix: string;
  tarballs: string[];
}

/** Packs the built packages and installs the tarballs into an empty prefix. */
export async function packAndInstall(): Promise<Installed> {
  const work = mkdtempSync(join(tmpdir(), 'edgecam-global-'));
  const prefix = join(work, 'prefix');
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
  const tarballs = (JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[]).map((p) => join(packs, p.filename));
  await run('npm', ['install', '-g', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, ...tarballs], {
    cwd: work,
    timeout: STEP_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { work, prefix, tarballs };
}

/** Removes the prefix and the tarballs: with ffmpeg and about 85 packages, a minute on a busy disk. */
export async function removeInstall(i: Installed | undefined): Promise<void> {
  if (i) await rm(i.work, { recursive: true, force: true });
}

/** Where a package lands under the prefix. */
export const installedPackage = (prefix: string, name: string) => join(prefix, 'lib/node_modules/@edgecam', name);

/** The environment of a user's shell: the prefix's bin on PATH, nothing from this checkout. */
export function userEnv(prefix: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}` };
  for (const key of Object.keys(env)) if (key.startsWith('npm_') || key === 'NODE_PATH' || key.startsWith('VITEST') || key.startsWith('EDGECAM_')) delete env[key];
  return env;
}

/** Child processes a test file starts, all stopped at its end. */
export class Children {
  private readonly live = new Set<ChildProcess>();

  add<C extends ChildProcess>(child: C): C {
    this.live.add(child);
    child.once('exit', () => this.live.delete(child));
    return child;
  }

  /** SIGTERM to each child still running, SIGKILL after 10 s. */
  stopAll(): Promise<void> {
    return Promise.all([...this.live].map((c) => stopChild(c))).then(() => undefined);
  }
}

/** SIGTERM (or `signal`), SIGKILL 10 s later; resolves to the exit code once it has exited. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(force);
      resolve(code);
    });
    child.kill(signal);
  });
}

/** An installed edgecam-server that has printed its banner. */
export interface ServerProcess {
  child: ChildProcess;
  tcpPort: number;
  /** null with --no-http. */
  httpPort: number | null;
  stderr(): string;
}

/** Starts the installed edgecam-server and resolves once its banner names its ports and ffmpeg. */
export function startInstalledServer(prefix: string, args: string[], cwd: string, children: Children): Promise<ServerProcess> {
  const child = children.add(spawn(join(prefix, 'bin/edgecam-server'), args, { cwd, env: userEnv(prefix), stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  return new Promise<ServerProcess>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within ${RUN_MS} ms; stderr: ${stderr}`)), RUN_MS);
    const look = () => {
      const tcp = /^ {2}TCP .*?: tcp:\/\/127\.0\.0\.1:(\d+)/m.exec(stderr);
      if (!tcp || !stderr.includes('  ffmpeg: ')) return;
      clearTimeout(timer);
      child.stderr!.off('data', look);
      const http = /^ {2}HTTP \(.*?\): http:\/\/127\.0\.0\.1:(\d+)\//m.exec(stderr);
      resolve({ child, tcpPort: Number(tcp[1]), httpPort: http ? Number(http[1]) : null, stderr: () => stderr });
    };
    child.stderr!.on('data', look);
    child.once('exit', (code) => reject(new Error(`edgecam-server exited (${code}) before its banner: ${stderr}`)));
  });
}

/** A port free right now, for a camera's legacyPort (which cannot be 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const PART_HEAD = /Content-Length: (\d+)\r\n\r\n/i;
// A part header that has not ended within this many bytes is not one.
const MAX_HEAD = 4096;

/** An HTTP MJPEG viewer: keeps each part's JPEG size (from its SOF), not its bytes. */
export class MjpegViewer {
  readonly sizes: JpegInfo[] = [];
  error: Error | null = null;
  private pending = Buffer.alloc(0);
  private need = -1; // bytes of the current JPEG still to come; -1 while reading a part's header
  private jpeg: Buffer[] = [];
  private waiters = new Set<() => void>();
  private res: IncomingMessage | undefined;

  private constructor(readonly url: string) {}

  /** Opens the stream; resolves once the response headers are in. */
  static open(url: string): Promise<MjpegViewer> {
    const v = new MjpegViewer(url);
    return new Promise((resolve, reject) => {
      get(url, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`${url} answered ${res.statusCode}`));
        v.res = res;
        res.on('data', (chunk: Buffer) => v.push(chunk));
        res.on('error', (err) => v.fail(err));
        res.on('close', () => v.fail(new Error(`${url} closed`)));
        resolve(v);
      }).once('error', reject);
    });
  }

  /** Resolves once `test()` holds, checked after each part; rejects after `ms` saying `what`. */
  until(test: () => boolean, ms: number, what: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!test() && this.error === null) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        if (test()) resolve();
        else reject(new Error(`${this.url}: ${this.error?.message} before ${what}`));
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.url}: no ${what} within ${ms} ms (${this.sizes.length} parts so far)`));
      }, ms);
      this.waiters.add(check);
    });
  }

  close(): void {
    this.res?.destroy();
  }

  private push(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.need < 0) {
        const head = PART_HEAD.exec(data.toString('latin1', 0, Math.min(data.length, MAX_HEAD)));
        if (!head) {
          if (data.length >= MAX_HEAD) return this.fail(new Error(`no part header in ${MAX_HEAD} bytes`));
          this.pending = Buffer.from(data);
          return;
        }
        this.need = Number(head[1]);
        data = data.subarray(head.index + head[0].length);
        continue;
      }
      const take = Math.min(this.need, data.length);
      this.jpeg.push(data.subarray(0, take));
      this.need -= take;
      data = data.subarray(take);
      if (this.need === 0) {
        this.sizes.push(readJpegInfo(Buffer.concat(this.jpeg)));
        this.jpeg = [];
        this.need = -1;
        for (const w of [...this.waiters]) w();
      }
    }
  }

  private fail(err: Error): void {
    this.error ??= err;
    for (const w of [...this.waiters]) w();
  }
}

/** The JPEG at `url` and its size from its SOF. */
export async function fetchJpeg(url: string): Promise<{ status: number; size: JpegInfo | null }> {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, size: res.status === 200 ? readJpegInfo(body) : null };
}

/** Resolves once `child`'s stderr matches `pattern`, with the match. */
export function stderrMatch(child: ChildProcess, pattern: RegExp, ms: number, what: string): Promise<RegExpExecArray> {
  let text = '';
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, m?: RegExpExecArray) => {
      clearTimeout(timer);
      child.stderr!.off('data', look);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    };
    const look = (t: Buffer | string) => {
      text += t.toString();
      const m = pattern.exec(text);
      if (m) done(null, m);
    };
    const onExit = (code: number | null) => done(new Error(`exited (${code}) before ${what}: ${text}`));
    const timer = setTimeout(() => done(new Error(`no ${what} within ${ms} ms: ${text}`)), ms);
    child.stderr!.on('data', look);
    child.once('exit', onExit);
  });
}

/** Resolves once `test()` holds, checked every 100 ms (for files, which give no event); rejects after `ms`. */
export async function pollUntil(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
