// The players the README points at /stream.mjpg, run for real: OpenCV (cv2.VideoCapture on the
// URL, Debian's python3-opencv) and VLC (Debian's vlc-bin), with the token as the URL's password.
// `npm test` installs both when it can; without them these suites are skipped with the reason.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { isWholeJpeg, readJpegInfo } from '@edgecam/protocol';
import { startRealServer, type RealHttpServer } from './http-fixtures/real-server.js';

const TOKEN = 'players-test-token-1';
const noOpenCv = missingPlayer('opencv');
const noVlc = missingPlayer('vlc');
let server: RealHttpServer;
let dir: string;

beforeAll(async () => {
  server = await startRealServer({ token: TOKEN });
  dir = await mkdtemp(join(tmpdir(), 'edgecam-players-'));
  await chmod(dir, 0o777); // VLC runs as nobody when the tests run as root, and writes here
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs a command; after `stopAfterMs` sends SIGTERM, then SIGKILL: nothing outlives the test. */
function run(command: string, args: string[], stopAfterMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: '/tmp' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const term = setTimeout(() => child.kill('SIGTERM'), stopAfterMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), stopAfterMs + 3000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

function streamUrl(password?: string): string {
  const auth = password === undefined ? '' : `viewer:${password}@`;
  return `http://${auth}127.0.0.1:${server.httpPort}/stream.mjpg`;
}

describe.skipIf(noOpenCv)(titled('OpenCV on the HTTP stream', noOpenCv), () => {
  // Reads 30 frames from the URL the way an OpenCV user does, and says what it got.
  const script = `
import json, sys, cv2
cap = cv2.VideoCapture(sys.argv[1], cv2.CAP_FFMPEG)
out = {"opened": cap.isOpened(), "frames": 0, "shapes": []}
while cap.isOpened() and out["frames"] < 30:
    ok, frame = cap.read()
    if not ok:
        break
    out["frames"] += 1
    if list(frame.shape[:2]) not in out["shapes"]:
        out["shapes"].append(list(frame.shape[:2]))
print(json.dumps(out))
`;
  const python = process.env['EDGECAM_OPENCV_PYTHON'] ?? '/usr/bin/python3';

  it('reads frames of the configured size with the token as the password', async () => {
    const r = await run(python, ['-c', script, streamUrl(TOKEN)], 30_000);
    expect(r.code, `needs Debian's python3-opencv: ${r.stderr}`).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ opened: true, frames: 30, shapes: [[240, 320]] });
  });

  it('cannot open the stream with a wrong token', async () => {
    const r = await run(python, ['-c', script, streamUrl('wrong-token-wrong-token')], 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ opened: false, frames: 0 });
  });
});

describe.skipIf(noVlc)(titled('VLC on the HTTP stream', noVlc), () => {
  it('demuxes whole JPEGs of the configured size, with the token as the password', async () => {
    const out = join(dir, 'vlc.mjpeg');
    const args = ['-I', 'dummy', '--no-audio', streamUrl(TOKEN), '--sout', `#std{access=file,mux=raw,dst=${out}}`];
    // VLC refuses to run as root.
    const [command, argv] = process.getuid?.() === 0
      ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/cvlc', ...args]]
      : ['/usr/bin/cvlc', args];
    const r = await run(command, argv as string[], 4000);
    expect(r.stderr, "needs Debian's vlc-bin and vlc-plugin-base").not.toMatch(/No such file|not found/);
    const data = await readFile(out);
    const starts: number[] = [];
    for (let i = data.indexOf(0xff); i >= 0 && i + 2 < data.length; i = data.indexOf(0xff, i + 1)) {
      if (data[i + 1] === 0xd8 && data[i + 2] === 0xff) starts.push(i);
    }
    // The last one may have been cut by the stop; every one before it is whole.
    const frames = starts.slice(0, -1).map((s, k) => data.subarray(s, starts[k + 1]));
    expect(frames.length).toBeGreaterThanOrEqual(20); // 20 fps for about 3 s
    for (const part of frames) {
      // VLC's MJPEG demuxer cuts the stream at each boundary and hands on the CRLF that comes
      // before it (RFC 2046 makes it part of the delimiter); decoders ignore bytes after EOI.
      const f = part.subarray(-2).toString('latin1') === '\r\n' ? part.subarray(0, -2) : part;
      expect(isWholeJpeg(f), `a frame ending in ${part.subarray(-8).toString('hex')}`).toBe(true);
      expect(readJpegInfo(f)).toMatchObject({ width: 320, height: 240 });
    }
  });
});
