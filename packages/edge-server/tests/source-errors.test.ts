// Mistakes in --source that the server names plainly: a file that is not there (refused at start,
// exit 2), a camera that is not plugged in yet (retried, and said so), --size on a file (ignored,
// and said so).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { makeFakeFfmpeg } from './support/fake-ffmpeg.js';
import { testPatternJpegs } from './support/jpegs.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('--source file:PATH that does not exist', () => {
  it('is refused at start with SOURCE_NOT_FOUND naming the file and the fix', async () => {
    const err = await startTestServer({ source: { kind: 'file', path: 'no-such-clip.mp4' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SOURCE_NOT_FOUND' });
    expect((err as Error).message).toBe(
      `--source file:no-such-clip.mp4: there is no file at ${resolve('no-such-clip.mp4')}; give the path of an existing video file`,
    );
  });

  it('makes edgecam-server exit 2 with that one line on stderr', async () => {
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const child = spawn(process.execPath, [cli, '--source', 'file:/nonexistent/clip.mp4'], {
      env: { ...process.env, EDGECAM_HOST: '127.0.0.1', EDGECAM_PORT: '0', EDGECAM_HTTP_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(stderr).toBe(
      'edgecam-server: --source file:/nonexistent/clip.mp4: there is no file at /nonexistent/clip.mp4; give the path of an existing video file\n',
    );
  });
});

describe('a v4l2 device that does not exist', () => {
  it('is retried with a log line that says it does not exist yet, and no capture ffmpeg is run', async () => {
    const [jpeg] = await testPatternJpegs(160, 120, 1);
    const ffmpeg = makeFakeFfmpeg({ jpeg: jpeg!, v4l2Formats: '' });
    const device = '/dev/edgecam-test-no-such-video';
    const s = await startTestServer(
      { source: { kind: 'v4l2', device }, alwaysOn: true },
      { ffmpeg, supervisor: { initialBackoffMs: 50, maxBackoffMs: 100 } },
    );
    servers.push(s);
    const waiting = (l: Record<string, unknown>) => typeof l.msg === 'string' && l.msg.startsWith(`${device} does not exist yet`);
    await waitUntil(() => s.log.lines.filter(waiting).length >= 2, 10_000, 'two "does not exist yet" lines');
    expect(s.log.lines.find(waiting)!.msg).toMatch(/^\/dev\/edgecam-test-no-such-video does not exist yet \(No such file or directory\); retrying in [\d.]+ s until it appears$/);
    expect(s.log.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('no MJPEG'))).toBe(false);
    // Only probes ran: nothing was started to capture from a device that is not there.
    expect(ffmpeg.runs().every((r) => r.args.includes('-list_formats'))).toBe(true);
    expect(s.hub.info().lastError).toBe(`${device} does not exist yet (No such file or directory)`);
  });

  it('is told apart with the real ffmpeg too (no camera needed)', async () => {
    const device = '/dev/edgecam-test-no-such-video';
    const s = await startTestServer({ source: { kind: 'v4l2', device }, alwaysOn: true }, { supervisor: { initialBackoffMs: 50 } });
    servers.push(s);
    await waitUntil(() => s.log.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith(`${device} does not exist yet`)), 10_000, 'the "does not exist yet" line');
  });
});

describe('--size with a file source', () => {
  it('is reported as ignored at start', async () => {
    const clip = join(mkdtempSync(join(tmpdir(), 'edgecam-size-')), 'clip.avi');
    writeFileSync(clip, 'not started: nobody watches');
    const s = await startTestServer({ source: { kind: 'file', path: clip }, size: { width: 1280, height: 720 } }, { ffmpeg: resolveFfmpeg() });
    servers.push(s);
    const warning = s.log.lines.find((l) => l.level === 40 && typeof l.msg === 'string' && l.msg.includes('--size'));
    expect(warning?.msg).toBe('--size is ignored for file sources: a file plays at its own size');
  });

  it('is not mentioned when the size is left alone', async () => {
    const clip = join(mkdtempSync(join(tmpdir(), 'edgecam-size-')), 'clip.avi');
    writeFileSync(clip, 'not started: nobody watches');
    const s = await startTestServer({ source: { kind: 'file', path: clip }, size: { width: 640, height: 480 } });
    servers.push(s);
    expect(s.log.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('--size'))).toBe(false);
  });
});
