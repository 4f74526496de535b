// The `publish:` list and the ffmpeg command line of each target, without running anything.
import { describe, expect, it } from 'vitest';
import { maskedUrl, publishConfigSchema } from '../src/publish/publish-config.js';
import { ProgressReader, publishArgs } from '../src/publish/publish-args.js';
import { missingProtocol, parseOutputProtocols } from '../src/publish/publish-protocols.js';

const parse = (v: unknown) => publishConfigSchema.parse(v);
const issues = (v: unknown) => publishConfigSchema.safeParse(v).error?.issues.map((i) => i.message).join('; ') ?? '';

describe('publish config', () => {
  it('takes URL strings and {url, transport} objects, RTSP over TCP by default', () => {
    const [a, b, c] = parse(['rtsp://mediamtx:8554/front', { url: 'rtsp://go2rtc:8554/front', transport: 'udp' }, 'rtmps://live.example/app/key']);
    expect(a).toEqual({ url: 'rtsp://mediamtx:8554/front', transport: 'tcp', scheme: 'rtsp:', format: 'rtsp' });
    expect(b).toMatchObject({ transport: 'udp', format: 'rtsp' });
    expect(c).toMatchObject({ scheme: 'rtmps:', format: 'flv' });
    expect(parse(undefined)).toEqual([]);
  });

  it('refuses other schemes and non-URLs with the schemes it takes', () => {
    expect(issues(['http://mediamtx/front'])).toMatch(/uses http:\/\/; publish targets must be one of rtsp:\/\/, rtsps:\/\/, rtmp:\/\/, rtmps:\/\/, srt:\/\//);
    expect(issues(['mediamtx:8554/front'])).toMatch(/publish targets must be one of|is not a URL/);
    expect(issues(['not a url'])).toMatch(/"not a url" is not a URL; write e\.g\. rtsp:\/\/mediamtx:8554\/front/);
    expect(issues([{ url: 'rtsp://h/p', transport: 'quic' }])).not.toBe('');
  });

  it('never shows a password: not in messages, not in the masked URL', () => {
    expect(issues(['http://admin:s3cret@host/x'])).not.toContain('s3cret');
    const [t] = parse(['rtsp://publisher:s3cret@mediamtx:8554/front']);
    expect(maskedUrl(t!)).toBe('rtsp://publisher:***@mediamtx:8554/front');
  });
});

describe('publish command line', () => {
  it('copies stdin H.264 (in MPEG-TS) into RTSP over the chosen transport', () => {
    const [tcp, udp] = parse(['rtsp://m:8554/front', { url: 'rtsp://m:8554/front', transport: 'udp' }]);
    const args = publishArgs(tcp!);
    expect(args.join(' ')).toContain('-f mpegts -i pipe:0 -map 0:v:0 -c copy -f rtsp -rtsp_transport tcp rtsp://m:8554/front');
    expect(publishArgs(udp!).join(' ')).toContain('-rtsp_transport udp');
  });

  it('puts an rtmp target in FLV, with no RTSP options', () => {
    const [t] = parse(['rtmp://localhost:1935/live/front']);
    const args = publishArgs(t!);
    expect(args.slice(-3)).toEqual(['-f', 'flv', 'rtmp://localhost:1935/live/front']);
    expect(args).not.toContain('-rtsp_transport');
    expect(args).toContain('-c');
  });

  it('reads ffmpeg -progress blocks split anywhere', () => {
    const reader = new ProgressReader();
    expect(reader.push(Buffer.from('frame=12\nfps=30\nprog'))).toEqual([]);
    expect(reader.push(Buffer.from('ress=continue\nframe=27\nprogress=end\n'))).toEqual([
      { frames: 12, end: false },
      { frames: 27, end: true },
    ]);
  });
});

describe('publish protocols', () => {
  const listing = 'Supported file protocols:\nInput:\n  file\n  srt\nOutput:\n  file\n  rtmp\n  rtmps\n  tcp\n  tls\n';
  const ffmpeg = { path: '/opt/ffmpeg', via: 'PATH' as const };

  it('reads the output protocols of ffmpeg -protocols', () => {
    expect([...parseOutputProtocols(listing)]).toEqual(['file', 'rtmp', 'rtmps', 'tcp', 'tls']);
  });

  it('refuses srt:// with a sentence when ffmpeg has no SRT, and allows it when it has', () => {
    const [srt, rtsp] = parse(['srt://m:8890?streamid=publish:front', 'rtsp://m:8554/front']);
    expect(missingProtocol(ffmpeg, parseOutputProtocols(listing), srt!, 'front')).toBe(
      "camera front: publish target srt://m:8890?streamid=*** needs ffmpeg's srt protocol, which /opt/ffmpeg (from PATH) does not have; " +
        'publish with rtsp:// or rtmp:// instead, or set EDGECAM_FFMPEG to an ffmpeg built with --enable-libsrt',
    );
    expect(missingProtocol(ffmpeg, parseOutputProtocols(listing), rtsp!, 'front')).toBeUndefined();
    expect(missingProtocol(ffmpeg, parseOutputProtocols(`${listing}  srt\n`), srt!, 'front')).toBeUndefined();
  });
});
