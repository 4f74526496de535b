// `h264.encoder: copy`: a source that already carries H.264 feeds the hub through ffmpeg's copy
// path, not re-encoded. An RTSP server that a reader can pull from over TCP is not at hand on
// loopback (ffmpeg's listen mode only receives), so the test copies from an MP4 file, which takes
// the same path: ffmpeg -c:v copy with mp4toannexb and dump_extra, no stdin.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { H264Hub } from '../src/h264/h264-hub.js';
import { checkH264Source, h264ConfigSchema } from '../src/h264/h264-config.js';
import { h264CopyArgs, rtspCopyInput } from '../src/h264/h264-args.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import type { SourceSpec } from '../src/sources/source-spec.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { Collector, spsOf } from './support/h264.js';
import { memoryLogger } from './support/logger.js';
import { alive } from './support/processes.js';
import { waitUntil } from './support/wait.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'edgecam-h264-copy-'));
const rawPath = join(dir, 'in.h264');
const mp4Path = join(dir, 'in.mp4');

beforeAll(async () => {
  const ffmpeg = resolveFfmpeg().path;
  // One H.264 stream, written raw (its SPS readable as bytes) and then muxed into MP4 untouched.
  await run(ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-frames:v', '60',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-g', '15', '-f', 'h264', rawPath,
  ]);
  await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-r', '30', '-i', rawPath, '-c:v', 'copy', mp4Path]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hubs: H264Hub[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});


function copyHub(source: SourceSpec): { cam: FakeHub; hub: H264Hub } {
  const cam = new FakeHub(320, 240, 30);
  const hub = new H264Hub(
    { name: 'gate', hub: cam, logger: memoryLogger('warn').logger },
    h264ConfigSchema.parse({ enabled: true, encoder: 'copy', idleStopMs: 100 }),
    { ffmpeg: resolveFfmpeg(), source },
  );
  hubs.push(hub);
  return { cam, hub };
}

describe('H.264 passthrough (encoder: copy)', () => {
  it('copies the source H.264 without re-encoding: keyframes with the source SPS, no JPEGs taken', async () => {
    const { cam, hub } = copyHub({ kind: 'file', path: mp4Path });
    const sink = new Collector();
    const detach = hub.attach(sink);
    await waitUntil(() => sink.units.filter((u) => u.keyframe).length >= 3, 30_000, 'three keyframes copied');
    const pid = hub.pid!;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    expect(cmdline).toContain('-c:v copy');
    expect(cmdline).toContain('h264_mp4toannexb,dump_extra');
    expect(cmdline).not.toMatch(/libx264|-f mjpeg/);
    // The camera's JPEGs are not needed: ffmpeg reads the source itself.
    expect(cam.subscriptions).toBe(0);
    const sourceSps = spsOf(readFileSync(rawPath))!;
    expect(sourceSps).toBeDefined();
    const first = sink.units[0]!;
    expect(first.keyframe).toBe(true);
    expect(first.hasConfig).toBe(true);
    for (const unit of sink.units.filter((u) => u.keyframe)) {
      expect(unit.hasConfig).toBe(true);
      expect(spsOf(unit.data)!.equals(sourceSps)).toBe(true);
    }
    const stats = hub.stats();
    expect(stats).toMatchObject({ state: 'running', encoder: 'copy', frames: 0, skipped: 0, consumers: 1 });
    expect(stats.keyframes).toBeGreaterThanOrEqual(3);
    expect(stats.units).toBeGreaterThanOrEqual(stats.keyframes);
    detach();
    await waitUntil(() => !hub.running && !alive(pid), 10_000, 'the copy to stop when idle');
    expect(hub.stats().state).toBe('idle');
  }, 60_000);

  it('refuses copy at config time for a source that delivers JPEG, in one sentence', () => {
    const config = h264ConfigSchema.parse({ enabled: true, encoder: 'copy' });
    expect(() => checkH264Source(config, { kind: 'testsrc' }, 'gate')).toThrow(
      /^camera gate: h264\.encoder "copy" passes the source's H\.264 through, but testsrc delivers JPEG; use an rtsp:\/\/ source that sends H\.264, or set h264\.encoder to libx264$/,
    );
    expect(() => copyHub({ kind: 'http', url: 'http://cam.local/mjpeg', insecure: false })).toThrow(/delivers JPEG/);
    expect(() => checkH264Source(config, { kind: 'rtsp', url: 'rtsp://cam.local/h264', transport: 'tcp' }, 'gate')).not.toThrow();
    // Other encoders take any source.
    expect(() => checkH264Source(h264ConfigSchema.parse({}), { kind: 'stdin' }, 'gate')).not.toThrow();
  });

  it('reads an RTSP camera over TCP with the socket timeout this ffmpeg names, copied to Annex-B', () => {
    const args = h264CopyArgs(rtspCopyInput('rtsp://cam.local/h264', 'stimeout', 'tcp')).join(' ');
    expect(args).toContain('-rtsp_transport tcp -stimeout 5000000 -i rtsp://cam.local/h264');
    expect(args).toContain('-an -c:v copy -bsf:v h264_mp4toannexb,dump_extra');
    expect(args).toContain('-nostdin');
    expect(args).toMatch(/-f h264 -$/);
  });

  it('reads an RTSP camera over UDP when its source says #udp', () => {
    const args = h264CopyArgs(rtspCopyInput('rtsp://cam.local/h264', 'timeout', 'udp')).join(' ');
    expect(args).toContain('-rtsp_transport udp -timeout 5000000 -i rtsp://cam.local/h264');
    expect(args).toContain('-an -c:v copy');
  });
});
