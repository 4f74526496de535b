// `publish:` in a config file: the server pushes the camera's H.264 to an RTSP server on loopback
// (ffmpeg's listen mode, recording what it receives), /status and /metrics show the target, and
// ffprobe reads back what arrived. And a publish: without h264 is refused with the fix.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { startEdgeServer } from '../src/server.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { config } from './support/config.js';
import { memoryLogger } from './support/logger.js';
import { waitUntil } from './support/wait.js';

const missing = missingPlayer('ffprobe');
const dir = mkdtempSync(join(tmpdir(), 'edgecam-publish-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function configFile(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, [...lines, ''].join('\n'));
  return file;
}

const size = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

describe('publish: in the config file', () => {
  it('is refused with the fix when the camera has no H.264', async () => {
    const file = configFile('no-h264.yaml', ['cameras:', '  front:', '    source: testsrc', '    publish: [rtsp://127.0.0.1:8554/front]']);
    const c = config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']);
    await expect(startEdgeServer(c, { logger: memoryLogger('silent').logger })).rejects.toThrow(
      'camera front: publish: pushes the camera\'s H.264, which is off; add h264: {enabled: true} to the camera (or remove publish:)',
    );
  });

  describe.skipIf(missing)(titled('to an RTSP server on loopback', missing), () => {
    it('pushes the camera, reports it in /status and /metrics, and ffprobe reads H.264 of the camera\'s size', async () => {
      const port = await freePort();
      const received = join(dir, 'received.mkv');
      const ffmpeg = resolveFfmpeg();
      const receiver = spawn(ffmpeg.path, ['-hide_banner', '-loglevel', 'warning', '-rtsp_flags', 'listen', '-i', `rtsp://127.0.0.1:${port}/front`, '-c', 'copy', '-f', 'matroska', '-y', received], {
        stdio: 'ignore',
      });
      const receiverExited = new Promise((r) => receiver.on('close', r));
      const file = configFile('publish.yaml', [
        'size: 320x240',
        'fps: 15',
        'cameras:',
        '  front:',
        '    source: testsrc',
        '    h264: {enabled: true}',
        `    publish: [rtsp://127.0.0.1:${port}/front]`,
      ]);
      const server = await startEdgeServer(config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']), {
        logger: memoryLogger('silent').logger,
      });
      try {
        const base = `http://127.0.0.1:${server.httpPort}`;
        // Publishing runs without any viewer; the receiver's file grows once pictures arrive.
        await waitUntil(() => size(received) > 20_000, 60_000, 'the RTSP server to receive 20 kB');
        const { camera: status } = (await (await fetch(`${base}/cams/front/status`)).json()) as { camera: { publish?: { url: string; state: string; bytes: number }[] } };
        expect(status.publish).toEqual([expect.objectContaining({ url: `rtsp://127.0.0.1:${port}/front`, state: 'publishing' })]);
        expect(status.publish![0]!.bytes).toBeGreaterThan(0);
        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect(metrics).toContain('edgecam_publish_targets_up{camera="front"} 1');
      } finally {
        await server.close();
      }
      // The publisher's ffmpeg ending closes the RTSP session, so the receiver finishes its file.
      await Promise.race([receiverExited, new Promise((r) => setTimeout(r, 10_000))]);
      receiver.kill('SIGKILL');
      await receiverExited;
      const probed = await new Promise<{ codec_name: string; width: number; height: number; nb_read_frames: string }>((resolve, reject) =>
        execFile(
          '/usr/bin/ffprobe',
          ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', received],
          (err, stdout, stderr) => (err ? reject(new Error(`ffprobe failed: ${stderr}`)) : resolve((JSON.parse(stdout) as { streams: never[] }).streams[0]!)),
        ),
      );
      expect(probed.codec_name).toBe('h264');
      expect([probed.width, probed.height]).toEqual([320, 240]);
      expect(Number(probed.nb_read_frames)).toBeGreaterThan(0);
    }, 120_000);
  });
});
