// The MPEG-TS the publisher feeds its ffmpeg, read back by Debian's ffprobe: every picture is
// there, in the H.264 stream, with the capture time it was given (not the time it arrived).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { AccessUnitSplitter, type AccessUnit } from '../src/h264/access-units.js';
import { MpegTsPacketizer } from '../src/publish/mpegts-packetizer.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';

const run = promisify(execFile);
const missing = missingPlayer('ffprobe');

/** Access units of 90 frames of libx264 (keyframe every 30), as the H.264 hub's encoder makes them. */
async function encodedUnits(): Promise<AccessUnit[]> {
  const { stdout } = await run(
    resolveFfmpeg().path,
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-frames:v', '91',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-bsf:v', 'h264_metadata=aud=insert', '-f', 'h264', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  // The 91st picture only ends the 90th: a unit is complete when the next begins.
  return new AccessUnitSplitter().push(stdout);
}

describe.skipIf(missing !== undefined)(titled('MPEG-TS for the publisher', missing), () => {
  it('carries every picture with its capture time, however unevenly they arrived', async () => {
    const units = await encodedUnits();
    expect(units.length).toBe(90);
    // Capture times 1/30 s apart from an arbitrary start (the nowUs clock), with a 200 ms gap
    // where the camera dropped frames.
    const start = 5_000_000_123;
    units.forEach((u, i) => (u.timestampUs = start + Math.round((i * 1e6) / 30) + (i >= 45 ? 200_000 : 0)));
    const ts = new MpegTsPacketizer();
    const bytes = Buffer.concat(units.map((u) => ts.packetize(u)));
    expect(bytes.length % 188).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'edgecam-ts-'));
    try {
      const file = join(dir, 'out.ts');
      writeFileSync(file, bytes);
      const { stdout } = await run('/usr/bin/ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries',
        'stream=codec_name,width,height,nb_read_frames:packet=pts,flags', '-of', 'json', file]);
      const out = JSON.parse(stdout) as { streams: Record<string, unknown>[]; packets: { pts: number; flags: string }[] };
      expect(out.streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240, nb_read_frames: '90' });
      const pts = out.packets.map((p) => p.pts - out.packets[0]!.pts);
      const expected = units.map((u) => Math.round(((u.timestampUs - start) * 90_000) / 1e6));
      expect(pts).toEqual(expected);
      expect(out.packets.filter((p) => p.flags.startsWith('K')).length).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('starts each stream anew from zero with fresh counters', () => {
    const ts = new MpegTsPacketizer();
    const unit = (t: number): AccessUnit => ({ data: Buffer.from([0, 0, 0, 1, 0x65, 0x88]), keyframe: true, hasConfig: false, timestampUs: t });
    const a = ts.packetize(unit(1_000_000));
    ts.packetize(unit(2_000_000));
    ts.reset();
    const b = ts.packetize(unit(9_000_000));
    expect(b.equals(a)).toBe(true);
  });
});
