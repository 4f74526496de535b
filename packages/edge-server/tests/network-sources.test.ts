// The network sources' --source forms, and rtsp:// through ffmpeg: its command line, and no
// password in what the server logs or reports. There is no loopback run against a real RTSP
// server: ffmpeg's `-rtsp_flags listen` cannot serve a reader, and rtsp-streaming-server (npm)
// serves RTP over UDP only, answering our TCP SETUP with 461 Unsupported Transport.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatSourceSpec, parseSourceSpec } from '../src/sources/source-spec.js';
import { rtspArgs, parseRtspTimeoutOption } from '../src/sources/ffmpeg/ffmpeg-args.js';
import { probeRtspTimeoutOption } from '../src/sources/ffmpeg/ffmpeg-probe.js';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { peerText } from '../src/log/peer-text.js';
import { maskUrlPasswords } from '../src/sources/url-credentials.js';
import { LegacyClient } from './support/clients.js';
import { makeFakeFfmpeg } from './support/fake-ffmpeg.js';
import { testPatternJpegs } from './support/jpegs.js';
import { startTestServer, type TestServer } from './support/server.js';

let jpegs: Buffer[];
const servers: TestServer[] = [];
const clients: LegacyClient[] = [];

beforeAll(async () => {
  jpegs = await testPatternJpegs(160, 120, 1);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('--source for network cameras', () => {
  it.each([
    ['http://cam.local/stream', { kind: 'http', url: 'http://cam.local/stream', insecure: false }],
    ['https://u:p@10.0.0.5:8443/video.mjpg#insecure', { kind: 'http', url: 'https://u:p@10.0.0.5:8443/video.mjpg', insecure: true }],
    ['rtsp://admin:pw@192.168.1.20:554/Streaming/Channels/101', { kind: 'rtsp', url: 'rtsp://admin:pw@192.168.1.20:554/Streaming/Channels/101', transport: 'tcp' }],
    ['rtsps://cam/live', { kind: 'rtsp', url: 'rtsps://cam/live', transport: 'tcp' }],
    ['rtsp://u:p@cam:554/live#udp', { kind: 'rtsp', url: 'rtsp://u:p@cam:554/live', transport: 'udp' }],
  ])('parses %s', (text, spec) => {
    expect(parseSourceSpec(text)).toEqual(spec);
  });

  it.each(['http://', 'ftp://cam/x', 'https://cam/x#fast', 'rtsp:cam', 'rtsp://cam/x#tcp', 'rtsp://cam/x#insecure'])('refuses %s', (text) => {
    expect(parseSourceSpec(text)).toBeUndefined();
  });

  it('masks the password wherever a spec is shown, keeping the user', () => {
    expect(formatSourceSpec(parseSourceSpec('https://admin:s3cret@cam/s#insecure')!)).toBe('https://admin:***@cam/s#insecure');
    expect(formatSourceSpec(parseSourceSpec('rtsp://admin:s3cret@cam/s')!)).toBe('rtsp://admin:***@cam/s');
    expect(formatSourceSpec(parseSourceSpec('rtsp://admin:s3cret@cam/s#udp')!)).toBe('rtsp://admin:***@cam/s#udp');
    expect(maskUrlPasswords("Input #0, rtsp, from 'rtsp://a:b@c/d': x http://e:f@g")).toBe("Input #0, rtsp, from 'rtsp://a:***@c/d': x http://e:***@g/");
  });

  it('shows control characters of peer text', () => {
    expect(peerText('ok\x1b[31m\u202e\r\n')).toBe('ok\\x1b[31m\\u202e\\x0d\\x0a');
  });
});

describe('rtsp:// through ffmpeg', () => {
  it('reads over TCP with a socket timeout, fitted to the size, rate and quality', () => {
    const args = rtspArgs('rtsp://cam/live', { width: 640, height: 360, fps: 10, quality: 100 }, 'stimeout', 'tcp').join(' ');
    expect(args).toContain('-rtsp_transport tcp -stimeout 5000000 -i rtsp://cam/live -map 0:v:0');
    expect(args).toContain('-vf fps=10,scale=640:360:force_original_aspect_ratio=decrease -c:v mjpeg -q:v 2 -huffman default -thread_type slice -an -f mpjpeg');
  });

  it('reads over UDP when the spec ends in #udp, and the fragment never reaches ffmpeg', () => {
    const spec = parseSourceSpec('rtsp://cam/live#udp');
    if (spec?.kind !== 'rtsp') throw new Error('not an rtsp spec');
    const args = rtspArgs(spec.url, { width: 640, height: 360, fps: 10, quality: 100 }, 'timeout', spec.transport).join(' ');
    expect(args).toContain('-rtsp_transport udp -timeout 5000000 -i rtsp://cam/live -map 0:v:0');
    expect(args).not.toContain('#udp');
  });

  it('names the socket timeout as the ffmpeg in use does (-stimeout in 4.x, -timeout from 5.0)', async () => {
    expect(parseRtspTimeoutOption('  -stimeout          <int>        .D....... set timeout')).toBe('stimeout');
    expect(parseRtspTimeoutOption('  -timeout           <int64>      .D......... set timeout (in microseconds) of socket I/O')).toBe('timeout');
    const ffmpeg = resolveFfmpeg();
    if (ffmpeg.via === '@ffmpeg-installer/ffmpeg') expect(await probeRtspTimeoutOption(ffmpeg)).toBe('stimeout');
  });

  it('streams a camera through ffmpeg, with the password in no log line and not in /status', async () => {
    const ffmpeg = makeFakeFfmpeg({ jpeg: jpegs[0]!, fps: 20 });
    const url = 'rtsp://admin:s3cret@127.0.0.1:8554/live';
    const server = await startTestServer({ source: { kind: 'rtsp', url, transport: 'tcp' } }, { ffmpeg });
    servers.push(server);
    const c = await LegacyClient.connect(server.tcpPort);
    clients.push(c);
    c.write('3');
    await c.waitForFrames(2);
    const capture = ffmpeg.runs().find((r) => r.args.includes('-rtsp_transport'))!.args.join(' ');
    expect(capture).toContain(`-rtsp_transport tcp -timeout 5000000 -i ${url} `);
    expect(server.hub.info()).toMatchObject({ kind: 'rtsp', spec: 'rtsp://admin:***@127.0.0.1:8554/live' });
    const logged = JSON.stringify(server.log.lines);
    expect(logged).toContain("from 'rtsp://admin:***@127.0.0.1:8554/live'");
    expect(logged).not.toContain('s3cret');
  });
});
