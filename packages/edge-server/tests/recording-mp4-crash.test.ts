// An edgecam-server process recording MP4, killed with SIGKILL: every segment it leaves, the one
// it was writing included, plays without repair in ffprobe (the frames inspectMp4 lists, no error),
// OpenCV, VLC and Chromium's <video>; started again, it repairs the cut one, lists it whole and
// serves it to Chromium with Range. Needs `npm run build` (Nx runs it before the tests).
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectMp4, type Mp4Inspection } from '@edgecam/recorder';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { ffprobeFrames, runFfmpeg } from './recording-fixtures/mp4-helpers.js';
import { launchChromium, pagePoll } from './support/browser.js';
import { waitUntil } from './support/wait.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const noFfprobe = missingPlayer('ffprobe');
const noOpenCv = missingPlayer('opencv');
const noVlc = missingPlayer('vlc');
const noChromium = missingPlayer('chromium');
let dir: string;
let camDir: string;
let configFile: string;
/** The segments as the killed server left them, by name, with what inspectMp4 found. */
const left = new Map<string, Mp4Inspection>();
let killedFile = '';
const children: ChildProcess[] = [];

interface Running {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<NodeJS.Signals | null>;
}

function startServer(): Running {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build the package first (npm run build)`);
  const child = spawn(process.execPath, [cli, '--config', configFile], {
    env: { ...process.env, EDGECAM_HOST: '127.0.0.1', EDGECAM_PORT: '0', EDGECAM_HTTP_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    const parts = out.split('\n');
    out = parts.pop()!;
    for (const p of parts) if (p.trim().startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  return { child, lines, exited };
}

beforeAll(async () => {
  // Players run as nobody when the tests run as root (VLC refuses root): the files must be reachable.
  dir = await mkdtemp(join(tmpdir(), 'edgecam-mp4-crash-'));
  await chmod(dir, 0o777);
  camDir = join(dir, 'front');
  configFile = join(dir, 'edgecam.yaml');
  writeFileSync(configFile, [
    'size: 320x240',
    'fps: 15',
    'cameras:',
    '  front:',
    '    source: testsrc',
    '    h264: {enabled: true, keyframeIntervalS: 0.5}',
    `    record: {dir: ${dir}, format: mp4, segment: 2s}`,
    '',
  ].join('\n'));
  const r = startServer();
  try {
    // Two segments closed, and the third written for a while: then the plug is pulled.
    await waitUntil(() => r.lines.filter((l) => l.msg === 'recording segment closed').length >= 2, 60_000, 'two closed segments');
    const live = () => r.lines.filter((l) => l.msg === 'recording segment').at(-1)!.file as string;
    await waitUntil(() => existsSync(join(camDir, live())), 10_000, 'the third segment on disk');
    const initial = (await stat(join(camDir, live()))).size;
    const deadline = Date.now() + 20_000;
    while ((await stat(join(camDir, live()))).size < initial + 20_000 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    killedFile = live();
    r.child.kill('SIGKILL');
    expect(await r.exited).toBe('SIGKILL');
  } finally {
    r.child.kill('SIGKILL');
  }
  for (const name of (await readdir(camDir)).sort()) left.set(name, await inspectMp4(join(camDir, name)));
}, 120_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('the segments an MP4 recording killed with SIGKILL leaves', () => {
  it('are closed segments with their index, and the cut one with its whole fragments', () => {
    expect(left.size).toBeGreaterThanOrEqual(3);
    const killed = left.get(killedFile)!;
    expect(killed.frames).toBeGreaterThan(0);
    expect(killed.problems.map((p) => p.code)).toContain('MISSING_INDEX');
    for (const [name, info] of left) {
      if (name === killedFile) continue;
      expect(info, name).toMatchObject({ indexed: true, problems: [], width: 320, height: 240 });
      expect(info.fragments[0]!.keyframe).toBe(true);
    }
  });
});

describe.skipIf(noFfprobe)(titled('ffprobe on them', noFfprobe), () => {
  it('counts exactly the frames inspectMp4 lists, without an error, the cut one too', async () => {
    for (const [name, info] of left) expect(await ffprobeFrames(join(camDir, name)), name).toMatchObject({ frames: info.frames, errors: '' });
  });
});

describe.skipIf(noOpenCv)(titled('OpenCV (cv2.VideoCapture) on them', noOpenCv), () => {
  it('decodes every listed frame of each', async () => {
    const script = `
import json, sys, cv2
for p in sys.argv[1:]:
    cap = cv2.VideoCapture(p, cv2.CAP_FFMPEG)
    n = 0
    while cap.isOpened():
        ok, frame = cap.read()
        if not ok:
            break
        n += 1
    print(json.dumps({"path": p, "opened": cap.isOpened(), "decoded": n}))
`;
    const names = [...left.keys()];
    const child = spawn(process.env['EDGECAM_OPENCV_PYTHON'] ?? '/usr/bin/python3', ['-c', script, ...names.map((n) => join(camDir, n))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await new Promise((r) => child.on('close', r));
    clearTimeout(timer);
    const reports = stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; opened: boolean; decoded: number });
    reports.forEach((r, i) => expect(r, names[i]).toMatchObject({ opened: true, decoded: left.get(names[i]!)!.frames }));
  });
});

describe.skipIf(noVlc)(titled('VLC on them', noVlc), () => {
  it('demuxes every listed frame of each', async () => {
    for (const [name, info] of left) {
      const out = join(dir, `${name}.vlc.h264`);
      const args = ['-I', 'dummy', '--no-audio', '--play-and-exit', join(camDir, name), '--sout', `#std{access=file,mux=raw,dst=${out}}`];
      const root = process.getuid?.() === 0;
      const child = spawn(root ? 'setpriv' : '/usr/bin/cvlc', root ? ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/cvlc', ...args] : args, { stdio: 'ignore', env: { ...process.env, HOME: '/tmp' } });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await new Promise((r) => child.on('close', r));
      clearTimeout(timer);
      expect(code, name).toBe(0);
      const decoded = await runFfmpeg(['-v', 'error', '-f', 'h264', '-i', out, '-f', 'framemd5', '-']);
      expect(decoded.stdout.split('\n').filter((l) => l && !l.startsWith('#')), name).toHaveLength(info.frames);
    }
  });
});

/** Plays `url` in a <video> of a page at `origin` until it ends; what the element says then. */
interface Played {
  ended: boolean;
  error: string | null;
  frames: number;
  t: number;
}

async function playToEnd(origin: string, url: string): Promise<Played> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(origin);
    await page.evaluate(`(() => { const v = document.createElement('video'); v.id = 'v'; v.muted = true; v.src = ${JSON.stringify(url)}; document.body.append(v); v.play().catch(() => {}); })()`);
    return await pagePoll(page, `(() => { const v = document.getElementById('v'); return { ended: v.ended, error: v.error && v.error.message, frames: v.getVideoPlaybackQuality().totalVideoFrames, t: v.currentTime }; })()`, (s: Played) => s.ended || s.error !== null, 60_000);
  } finally {
    await browser.close();
  }
}

describe.skipIf(noChromium)(titled("Chromium's <video> on them", noChromium), () => {
  it('plays each to its end, the cut one without repair', async () => {
    // The files as they are, from a plain server that answers Range.
    const files: Server = createServer((req, res) => {
      const name = basename(decodeURIComponent((req.url ?? '/').split('?')[0]!));
      if (!left.has(name)) return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>t</title>');
      void stat(join(camDir, name)).then((st) => {
        const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
        const [start, end] = m ? [Number(m[1]), m[2] ? Math.min(Number(m[2]), st.size - 1) : st.size - 1] : [0, st.size - 1];
        res.writeHead(m ? 206 : 200, { 'Content-Type': 'video/mp4', 'Accept-Ranges': 'bytes', 'Content-Length': end - start + 1, ...(m ? { 'Content-Range': `bytes ${start}-${end}/${st.size}` } : {}) });
        createReadStream(join(camDir, name), { start, end }).pipe(res);
      });
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(files.address() as AddressInfo).port}/`;
    try {
      for (const [name, info] of left) {
        const r = await playToEnd(origin, `/${name}`);
        expect(r, name).toMatchObject({ ended: true, error: null, frames: info.frames });
      }
    } finally {
      files.closeAllConnections();
      await new Promise((r) => files.close(r));
    }
  }, 180_000);
});

describe('the server started again', () => {
  it('repairs the cut segment, lists every segment whole, and serves it with Range to a <video>', async () => {
    const r = startServer();
    try {
      await waitUntil(() => r.lines.some((l) => l.msg === 'repaired an unfinished recording' && l.file === killedFile), 60_000, 'the repair of the cut segment');
      await waitUntil(() => r.lines.some((l) => l.msg === 'listening'), 30_000, 'the server to listen');
      const http = r.lines.find((l) => l.msg === 'listening')!.http as string;
      const base = http.replace(/\/$/, '');
      const listing = (await (await fetch(`${base}/recordings`)).json()) as { recordings: Array<{ file: string; frames: number; problems: unknown[]; format: string }> };
      for (const [name, info] of left) {
        expect(listing.recordings.find((e) => e.file === name), name).toMatchObject({ format: 'mp4', frames: info.frames, problems: [] });
      }
      if (!noChromium) {
        const played = await playToEnd(`${base}/status`, `/recordings/front/${killedFile}`);
        expect(played).toMatchObject({ ended: true, error: null, frames: left.get(killedFile)!.frames });
      }
    } finally {
      r.child.kill('SIGTERM');
      await r.exited;
    }
  }, 120_000);
});
