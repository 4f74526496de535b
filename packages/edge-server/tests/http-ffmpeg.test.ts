// ffmpeg 4.x (the installer's static binary) as the MJPEG client: the reference for what
// players, OpenCV and NVRs built on libavformat accept.
import { execFile } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { FixedMetrics, RecordingRegistry } from './http-fixtures/fake-registry.js';
import { startHttpServer, type RunningHttpServer } from './http-fixtures/harness.js';
import { FFMPEG, testPatternJpegs } from './http-fixtures/jpeg-frames.js';

let jpegs: Buffer[];
let running: RunningHttpServer | undefined;

beforeAll(async () => {
  jpegs = await testPatternJpegs(320, 240, 30);
});

afterEach(async () => {
  await running?.close();
  running = undefined;
});

function ffmpeg(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // SIGKILL on timeout: an ffmpeg child must never outlive the test.
    execFile(FFMPEG, args, { timeout: 30_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe('GET /stream.mjpg read by ffmpeg', () => {
  it('decodes 30 frames without an error', async () => {
    const hub = new FakeHub();
    running = await startHttpServer({ hub, registry: new RecordingRegistry(), metrics: new FixedMetrics() });
    hub.play(jpegs, 30);
    try {
      const result = await ffmpeg(['-v', 'error', '-i', `${running.url}/stream.mjpg`, '-frames:v', '30', '-f', 'null', '-']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    } finally {
      hub.stop();
    }
  });

  it('reads the frames it was sent, with the source size', async () => {
    const hub = new FakeHub();
    const registry = new RecordingRegistry();
    running = await startHttpServer({ hub, registry, metrics: new FixedMetrics() });
    hub.play(jpegs, 30);
    try {
      // framemd5 prints one line per decoded frame; its size line proves the dimensions.
      const result = await ffmpeg(['-v', 'error', '-i', `${running.url}/stream.mjpg`, '-frames:v', '10', '-f', 'framemd5', '-']);
      expect(result.code).toBe(0);
      const frames = result.stdout.split('\n').filter((l) => /^0,/.test(l));
      expect(frames).toHaveLength(10);
      expect(result.stdout).toMatch(/#dimensions 0: 320x240/);
      expect(registry.all[0]).toMatchObject({ protocol: 'http', mode: 'streaming' });
      expect(registry.all[0]!.framesSent).toBeGreaterThanOrEqual(10);
    } finally {
      hub.stop();
    }
  });
});
