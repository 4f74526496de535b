import { describe, expect, it } from 'vitest';
import { h264EncoderArgs, parseH264Encoders } from '../src/h264/h264-args.js';
import { h264ConfigSchema } from '../src/h264/h264-config.js';

describe('h264EncoderArgs', () => {
  it('runs libx264 ultrafast/zerolatency with a keyframe every second by default, MJPEG in, Annex-B out', () => {
    const args = h264EncoderArgs(h264ConfigSchema.parse({}), 30).join(' ');
    expect(args).toContain('-f mjpeg');
    expect(args).toContain('-i -');
    expect(args).toContain('-c:v libx264 -preset ultrafast -tune zerolatency');
    expect(args).toContain('keyint=30:min-keyint=30:scenecut=0:repeat-headers=1');
    expect(args).toContain('-b:v 2000k');
    expect(args).toContain('h264_metadata=aud=insert');
    expect(args).toMatch(/-f h264 -$/);
  });

  it('gives a hardware encoder its GOP and no B-frames, and repeats SPS/PPS with dump_extra', () => {
    const args = h264EncoderArgs(h264ConfigSchema.parse({ encoder: 'h264_v4l2m2m', keyframeIntervalS: 2, bitrateKbps: 800 }), 15).join(' ');
    expect(args).toContain('-c:v h264_v4l2m2m -g 30 -bf 0');
    expect(args).toContain('dump_extra,h264_metadata=aud=insert');
    expect(args).toContain('-b:v 800k');
    expect(args).not.toContain('zerolatency');
  });

  it('refuses an encoder name that is not one word', () => {
    expect(() => h264ConfigSchema.parse({ encoder: 'libx264 -f null' })).toThrow(/ffmpeg encoder name/);
  });
});

describe('parseH264Encoders', () => {
  it('lists the H.264 encoders of an `ffmpeg -encoders` listing', () => {
    const listing = [
      ' V..... = Video',
      ' ------',
      ' V..... mjpeg                MJPEG (Motion JPEG)',
      ' V..... libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)',
      ' V..... h264_v4l2m2m         V4L2 mem2mem H.264 encoder wrapper (codec h264)',
    ].join('\n');
    expect(parseH264Encoders(listing)).toEqual(['libx264', 'h264_v4l2m2m']);
  });
});
