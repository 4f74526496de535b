import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  fileArgs,
  parseInputProbe,
  parseV4l2Formats,
  qualityToQscale,
  rawCameraEncodeArgs,
  testsrcArgs,
  v4l2Args,
} from '../src/sources/ffmpeg/ffmpeg-args.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';

const run = promisify(execFile);

const size = { width: 1280, height: 720, fps: 30, quality: 80 };

/** The value after a flag in an argument list. */
function after(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i === -1 ? undefined : args[i + 1];
}

describe('ffmpeg command lines', () => {
  it('maps --quality 1..100 onto -q:v 31..2, monotonically', () => {
    expect(qualityToQscale(1)).toBe(31);
    expect(qualityToQscale(100)).toBe(2);
    for (let q = 2; q <= 100; q++) expect(qualityToQscale(q)).toBeLessThanOrEqual(qualityToQscale(q - 1));
  });

  it('runs the test pattern in real time, encoded to MJPEG, as mpjpeg on stdout', () => {
    const args = testsrcArgs({ ...size, quality: 100 });
    expect(args.join(' ')).toContain(
      '-re -f lavfi -i testsrc2=size=1280x720:rate=30,format=yuvj420p -c:v mjpeg -q:v 2 -huffman default -thread_type slice -an -f mpjpeg -flush_packets 1 pipe:1',
    );
    expect(args).toContain('-nostdin');
  });

  it("draws the test pattern in the encoder's own pixel format, so no frame is converted", () => {
    expect(after(testsrcArgs(size), '-i')).toMatch(/,format=yuvj420p$/);
  });

  it('encodes with the standard Huffman tables and slice threads wherever it encodes', () => {
    const encoding = [
      testsrcArgs(size),
      v4l2Args('/dev/video0', size, false),
      fileArgs('clip.mp4', size, { formats: ['mov', 'mp4'], videoCodec: 'h264' }),
    ];
    for (const args of encoding) {
      expect(after(args, '-huffman')).toBe('default');
      expect(after(args, '-thread_type')).toBe('slice');
    }
    expect(v4l2Args('/dev/video2', size, true)).not.toContain('-huffman');
  });

  it('copies a camera that offers MJPEG, without re-encoding', () => {
    const args = v4l2Args('/dev/video2', size, true);
    expect(args.join(' ')).toContain(
      '-f v4l2 -input_format mjpeg -video_size 1280x720 -framerate 30 -i /dev/video2 -c:v copy -an -f mpjpeg',
    );
  });

  it('encodes a camera that offers only raw formats', () => {
    const args = v4l2Args('/dev/video0', { ...size, quality: 1 }, false);
    expect(args).not.toContain('-input_format');
    expect(after(args, '-i')).toBe('/dev/video0');
    expect(after(args, '-c:v')).toBe('mjpeg');
    expect(after(args, '-q:v')).toBe('31');
  });

  it('stretches a raw camera to full range by lookup table and tags the JPEG full range', () => {
    const args = v4l2Args('/dev/video0', size, false);
    expect(after(args, '-vf')).toMatch(/^lutyuv=y='clip\(\(val-16\)\*255\/219,0,255\)'/);
    expect(after(args, '-pix_fmt')).toBe('yuv420p');
    expect(after(args, '-strict')).toBe('-1');
    expect(after(args, '-color_range')).toBe('pc');
    expect(after(args, '-threads')).toBe('1');
    expect(args.indexOf('-vf')).toBeGreaterThan(args.indexOf('-i'));
    expect(v4l2Args('/dev/video2', size, true)).not.toContain('-vf');
  });

  it('turns limited-range YUYV black and white into a standard JPEG of 0 and 255', async () => {
    // 16x16 YUYV: left half Y=16 (black), right half Y=235 (white), neutral chroma.
    const yuyv = Buffer.alloc(16 * 16 * 2);
    for (let px = 0; px < 16 * 16; px++) {
      yuyv[px * 2] = px % 16 < 8 ? 16 : 235;
      yuyv[px * 2 + 1] = 128;
    }
    const ffmpeg = resolveFfmpeg().path;
    const dir = await mkdtemp(join(tmpdir(), 'edgecam-range-'));
    try {
      await writeFile(`${dir}/in.yuyv`, yuyv);
      const input = ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuyv422', '-s', '16x16', '-i', `${dir}/in.yuyv`];
      await run(ffmpeg, [...input, ...rawCameraEncodeArgs(100), '-frames:v', '1', '-f', 'mjpeg', `${dir}/out.jpg`]);
      const jpeg = await readFile(`${dir}/out.jpg`);
      expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      expect(jpeg.includes('CS=ITU601')).toBe(false);
      const { stdout } = await run(ffmpeg, ['-v', 'error', '-i', `${dir}/out.jpg`, '-f', 'rawvideo', '-pix_fmt', 'yuvj420p', 'pipe:1'], {
        encoding: 'buffer',
      });
      const luma = (stdout as Buffer).subarray(0, 16 * 16);
      for (let px = 0; px < 16 * 16; px++) {
        if (px % 16 < 6) expect(luma[px]).toBeLessThanOrEqual(4);
        if (px % 16 >= 10) expect(luma[px]).toBeGreaterThanOrEqual(251);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads a camera's formats from ffmpeg's -list_formats output", () => {
    const text = [
      '[video4linux2,v4l2 @ 0x5581e0] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 1280x720',
      '[video4linux2,v4l2 @ 0x5581e0] Compressed:       mjpeg :          Motion-JPEG : 640x480 1280x720 1920x1080',
      '/dev/video0: Immediate exit requested',
    ].join('\n');
    expect(parseV4l2Formats(text)).toEqual({ compressed: ['mjpeg'], raw: ['yuyv422'] });
    expect(parseV4l2Formats('/dev/video9: No such file or directory')).toEqual({ compressed: [], raw: [] });
  });

  it("reads a file's container and video codec from ffmpeg's -i output", () => {
    const avi = "Input #0, avi, from 'rec.avi':\n  Duration: 00:00:10.00\n    Stream #0:0: Video: mjpeg (MJPG / 0x47504A4D), yuvj420p, 640x480, 30 fps";
    expect(parseInputProbe(avi)).toEqual({ formats: ['avi'], videoCodec: 'mjpeg' });
    const mp4 =
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.mp4':\n    Stream #0:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p\n    Stream #0:1(und): Audio: aac";
    expect(parseInputProbe(mp4)).toEqual({ formats: ['mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2'], videoCodec: 'h264' });
    expect(parseInputProbe('x.avi: No such file or directory')).toEqual({ formats: [], videoCodec: null });
  });

  it('loops a file paced to its rate: MJPEG copied, anything else encoded', () => {
    const copy = fileArgs('rec.avi', size, { formats: ['avi'], videoCodec: 'mjpeg' });
    expect(copy.join(' ')).toContain('-stream_loop -1 -re -i rec.avi -map 0:v:0 -c:v copy');
    const encode = fileArgs('a.mp4', size, { formats: ['mov', 'mp4'], videoCodec: 'h264' });
    expect(after(encode, '-c:v')).toBe('mjpeg');
    expect(encode).not.toContain('-framerate');
  });

  it('paces a raw .mjpeg (no timestamps) to the configured fps', () => {
    const args = fileArgs('cam.mjpeg', { ...size, fps: 12 }, { formats: ['mjpeg'], videoCodec: 'mjpeg' });
    expect(args.join(' ')).toContain('-stream_loop -1 -re -framerate 12 -i cam.mjpeg');
  });
});
