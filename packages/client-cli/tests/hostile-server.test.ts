import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecorder } from '@edgecam/recorder';
import { formatEvent } from '../src/events-command.js';
import { pathInside, safeName, safeSegmentName } from '../src/safe-name.js';
import { cleanupsAfterEach } from './cleanups.js';
import { startFakeV2Server } from './fake-v2-server.js';
import { runCli, tempDir } from './run-cli.js';
import { testFrames } from './test-frames.js';

/**
 * A hostile HTTP server (loopback) that names its camera `../../escaped/evilcam`, puts newlines,
 * ESC and C1 controls in every string it can, and sends listings that are not listings. The
 * client must write only inside the folder it chose and show every server string as one visible
 * line.
 */
const EVIL = '../../escaped/evilcam';
const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const FRAMES = 20;

function entry(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    camera: EVIL,
    file: `${t0}_001.avi`,
    start: new Date(t0).toISOString(),
    end: new Date(t0 + 2000).toISOString(),
    startMs: t0,
    endMs: t0 + 2000,
    frames: FRAMES,
    bytes: 1000,
    fps: 10,
    recording: false,
    problems: [],
    ...over,
  };
}

/** What GET /SCENARIO/recordings answers; every download under it gets the same AVI. */
const listings: Record<string, unknown> = {
  evil: { cameras: [EVIL], recordings: [entry(), entry({ file: '../../../escaped/seg\n.avi', startMs: t0 + 2000, endMs: t0 + 4000 })] },
  strings: {
    cameras: ['evil\ncam'],
    recordings: [
      entry({ camera: 'evil\ncam', file: 'a\x1b[31mb.avi', start: '2026-11-30T12:00:00Z\nedgecam: forged', problems: [{ code: 'X\x1b[2J', message: 'm' }] }),
      entry({ camera: 'evil\ncam', end: 'e\u2028nd', problems: [{ code: 'TRUNCATED\nforged', message: 'm' }] }),
    ],
  },
  forged: { cameras: ['front'], recordings: [entry({ camera: 'front', frames: '7\nedgecam: forged line' })] },
  malformed: { cameras: ['front'] },
  twocams: { cameras: ['front', 'evil\nedgecam: forged'], recordings: [entry({ camera: 'front' }), entry({ camera: 'evil\nedgecam: forged\x1b[31m' })] },
  c1: { cameras: ['x\u009b31my\u2028z\x1b'], recordings: [entry({ camera: 'x\u009b31my\u2028z\x1b' })] },
};

let server: Server;
let base: string;

beforeAll(async () => {
  const avi = join(tempDir('hostile-'), 'segment.avi');
  const rec = createRecorder(avi, { fsync: false, frameRate: 10 });
  for (let f = 0; f < FRAMES; f++) await rec.write(testFrames()[f % 30]!);
  await rec.close();
  const aviBytes = readFileSync(avi);
  server = createServer((req, res) => {
    const [, scenario, rest] = /^\/([^/]+)\/(.*)$/.exec((req.url ?? '/').split('?')[0]!) ?? [];
    const listing = scenario === undefined ? undefined : listings[scenario];
    if (listing !== undefined && rest === 'recordings') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(listing));
    } else if (listing !== undefined && rest!.startsWith('recordings/')) {
      res.writeHead(200, { 'Content-Type': 'video/x-msvideo' }).end(aviBytes);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => server?.close());

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** A work folder two levels down, so `../../escaped` lands on a folder that exists (`root/escaped`). */
function nestedWorkDir(): { root: string; cwd: string } {
  const root = tempDir('escape-');
  const cwd = join(root, 'a', 'b');
  mkdirSync(cwd, { recursive: true });
  mkdirSync(join(root, 'escaped'));
  return { root, cwd };
}

/** stdout/stderr lines hold no raw ESC, C1 control or line separator, and no forged line. */
function expectVisible(text: string): void {
  expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
  for (const line of text.split('\n')) expect(line).not.toMatch(/^edgecam: forged|^PG /);
}

describe('safe names', () => {
  it.each([
    ['../../escaped/evilcam', '_escaped_evilcam'],
    ['Front Door', 'front_door'],
    ['..', '_'],
    ['', '_'],
    ['a\nb\x1b[31m', 'a_b_31m'],
    ['x'.repeat(300), 'x'.repeat(100)],
  ])('safeName(%j) is %j', (name, safe) => {
    expect(safeName(name)).toBe(safe);
  });

  it('keeps a known segment extension, in lower case, and drops any other', () => {
    expect(safeSegmentName('1733070000000_001.avi')).toBe('1733070000000_001.avi');
    expect(safeSegmentName('../../x.AVI')).toBe('_x.avi');
    expect(safeSegmentName('evil.sh')).toBe('evil_sh');
  });

  it('refuses a path that leaves its folder', () => {
    expect(pathInside('out', 'a.avi')).toBe(join('out', 'a.avi'));
    expect(() => pathInside('out', '../a.avi')).toThrow(/not inside "out"/);
    expect(() => pathInside('out', '/etc/a.avi')).not.toThrow();
    expect(() => pathInside('out', '.')).toThrow();
  });
});

describe('pull from a server that names its camera ../../escaped/evilcam', () => {
  it('writes the joined AVI inside the current folder and nothing at the escaped path', async () => {
    const { root, cwd } = nestedWorkDir();
    const run = await runCli(['pull', `${base}/evil/`], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(readdirSync(join(root, 'escaped'))).toEqual([]);
    const files = filesUnder(root);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^a\\${sep}b\\${sep}[a-z0-9_-]+_2026-11-30T12-00-00-000Z\\.avi$`));
    expect(run.stdout).toBe(`saved ${files[0]!.slice(4)}: ${2 * FRAMES} frames from 2 segments, ${run.stdout.split(', ')[1]}`);
  });

  it('downloads --as-is segments into a folder of its own inside the current one', async () => {
    const { root, cwd } = nestedWorkDir();
    const run = await runCli(['pull', `${base}/evil/`, '--as-is'], { cwd });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(readdirSync(join(root, 'escaped'))).toEqual([]);
    const files = filesUnder(cwd);
    expect(files).toHaveLength(2);
    for (const f of files) expect(f).toMatch(new RegExp(`^[a-z0-9_-]+_recordings\\${sep}[a-z0-9_-]+\\.avi$`));
    expect(filesUnder(root).every((f) => f.startsWith(`a${sep}b${sep}`))).toBe(true);
  });

  it('keeps --as-is segments with hostile file names inside the -o folder', async () => {
    const { root, cwd } = nestedWorkDir();
    const run = await runCli(['pull', `${base}/evil/`, '--as-is', '-o', 'segs', '--json'], { cwd });
    expect(run.code).toBe(0);
    expect(readdirSync(join(root, 'escaped'))).toEqual([]);
    const files = readdirSync(join(cwd, 'segs')).sort();
    expect(files).toHaveLength(2);
    for (const f of files) expect(f).toMatch(/^[a-z0-9_-]+\.avi$/);
    expect(JSON.parse(run.stdout)).toMatchObject({ camera: EVIL, output: 'segs', segments: 2, frames: 2 * FRAMES });
  });

  it('names a camera with a newline as one visible line when asking for --camera', async () => {
    const run = await runCli(['pull', `${base}/twocams/`], { cwd: tempDir() });
    expect(run.code).toBe(2);
    expectVisible(run.stderr);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('evil\\nedgecam: forged\\x1b[31m');
  });
});

describe('recordings from a hostile server', () => {
  it('shows newlines and ESC in the fields written out, one line per segment', async () => {
    const run = await runCli(['recordings', `${base}/strings/`], { cwd: tempDir() });
    expect(run.code).toBe(0);
    expectVisible(run.stdout);
    const rows = run.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r.split('\t')).toHaveLength(7);
    expect(rows[1]).toContain('evil\\ncam\ta\\x1b[31mb.avi\t2026-11-30 12:00:00Z\\nedgecam: forged');
    expect(rows[2]).toContain('TRUNCATED\\nforged');
  });

  it('refuses a field of the wrong type instead of printing it as a forged line', async () => {
    const run = await runCli(['recordings', `${base}/forged/`], { cwd: tempDir() });
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expectVisible(run.stderr);
    expect(run.stderr).toMatch(/^edgecam: 127\.0\.0\.1:\d+ answered \/forged\/recordings with JSON that is not an edgecam-server recordings listing \(recordings\.0\.frames: .*\); check that .* is edgecam-server's HTTP port \(--http-port\), or update edgecam to match the server\n$/);
  });

  it('refuses a listing without its recordings array, for recordings and pull alike', async () => {
    for (const command of ['recordings', 'pull']) {
      const run = await runCli([command, `${base}/malformed/`], { cwd: tempDir() });
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(/answered \/malformed\/recordings with JSON that is not an edgecam-server recordings listing \(recordings: .*\)/);
    }
  });

  it('keeps --json parseable when a name holds C1 controls and line separators', async () => {
    const run = await runCli(['recordings', `${base}/c1/`, '--json'], { cwd: tempDir() });
    expect(run.code).toBe(0);
    expectVisible(run.stdout);
    const list = JSON.parse(run.stdout) as Array<{ camera: string }>;
    expect(list[0]!.camera).toBe('x\u009b31my\u2028z\x1b');
  });
});

describe('other outputs of server-provided text', () => {
  const cleanups = cleanupsAfterEach();

  it('cameras --json stays parseable with C1 controls in a camera name', async () => {
    const name = 'door\u009b2J\u2029';
    const v2 = await startFakeV2Server({ frames: testFrames(), cameras: ['front', name] });
    cleanups.push(() => v2.close());
    const run = await runCli(['--port', String(v2.port), 'cameras', '--json'], { cwd: tempDir() });
    expect(run.code).toBe(0);
    expectVisible(run.stdout);
    expect((JSON.parse(run.stdout) as { cameras: string[] }).cameras).toEqual(['front', name]);
  });

  it('events --json stays parseable with C1 controls in an event field', () => {
    const line = formatEvent({ id: 'a\u009bb', camera: 'c\u2028', type: 'motion', phase: 'start', startedAt: 1, score: 0.5 }, true);
    expectVisible(line);
    expect(JSON.parse(line)).toMatchObject({ id: 'a\u009bb', camera: 'c\u2028' });
  });

  it('info writes out control characters of a fourcc read from a pulled file', async () => {
    const cwd = tempDir();
    const rec = createRecorder(join(cwd, 'x.avi'), { fsync: false, frameRate: 10 });
    for (let f = 0; f < 3; f++) await rec.write(testFrames()[f]!);
    await rec.close();
    const bytes = readFileSync(join(cwd, 'x.avi'));
    const header = bytes.subarray(0, 2048);
    for (let at = header.indexOf('MJPG'); at !== -1; at = header.indexOf('MJPG', at + 1)) header.write('M\nPG', at, 'latin1');
    writeFileSync(join(cwd, 'x.avi'), bytes);
    const run = await runCli(['info', 'x.avi'], { cwd });
    expect(run.code).toBe(0);
    expectVisible(run.stdout);
    expect(run.stdout.split('\n')[0]).toMatch(/^x\.avi: M\\nPG 160x120, 3 frames/);
  });
});
