// A v2 client of a server whose camera is down learns why: WELCOME carries the source's state and
// last error, and asking for frames (or streaming) while the source is lost gets one non-fatal
// ERROR SOURCE_UNAVAILABLE per loss; the connection stays open and frames follow on recovery.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../src/sources/ffmpeg/resolve-ffmpeg.js';
import { LegacyClient, V2Client } from './support/clients.js';
import { makeFakeFfmpeg } from './support/fake-ffmpeg.js';
import { testPatternJpegs } from './support/jpegs.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

const MJPEG_CAMERA = '[video4linux2,v4l2 @ 0x1] Compressed:       mjpeg :          Motion-JPEG : 160x120';
let jpeg: Buffer;
let dir: string;
const servers: TestServer[] = [];
const clients: { close(): void }[] = [];

beforeAll(async () => {
  [jpeg] = (await testPatternJpegs(160, 120, 1)) as [Buffer];
  dir = mkdtempSync(join(tmpdir(), 'edgecam-source-unavailable-'));
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function cameraServer(name: string, alwaysOn = false): Promise<{ s: TestServer; unplugged: string }> {
  const unplugged = join(dir, `${name}.unplugged`);
  writeFileSync(unplugged, '');
  const ffmpeg = makeFakeFfmpeg({ jpeg, fps: 10, v4l2Formats: MJPEG_CAMERA, unpluggedFlag: unplugged });
  const s = await startTestServer(
    { fps: 10, alwaysOn, source: { kind: 'v4l2', device: '/dev/video0' } },
    { ffmpeg, statsIntervalMs: 0, supervisor: { initialBackoffMs: 50, maxBackoffMs: 100 } },
  );
  servers.push(s);
  return { s, unplugged };
}

async function v2(port: number): Promise<V2Client> {
  const c = await V2Client.connect(port);
  clients.push(c);
  return c;
}

describe('a v2 client of a server whose camera is down', () => {
  it('gets one non-fatal SOURCE_UNAVAILABLE with the reason per loss, stays connected, and gets frames when the camera returns', async () => {
    const { s, unplugged } = await cameraServer('stream');
    const c = await v2(s.tcpPort);
    const [w] = await c.waitFor('welcome');
    expect(w!.welcome.source).toBeUndefined(); // idle, nothing to report yet
    c.command('3');
    const [e] = await c.waitFor('error');
    expect(e!.error.code).toBe('SOURCE_UNAVAILABLE');
    expect(e!.error.message).toMatch(/^ffmpeg exited with code 1: .*Cannot open video device \/dev\/video0: No such device$/);

    // More failed restarts and more requests: still one ERROR for this loss.
    const restarts = s.hub.info().restarts;
    await waitUntil(() => s.hub.info().restarts >= restarts + 3, 10_000, 'three more failed starts');
    c.command('0');
    c.command('3');
    const pong = Buffer.from('stillok!');
    c.ping(pong);
    const [p] = await c.waitFor('pong');
    expect(p!.data.equals(pong)).toBe(true);
    expect(c.of('error')).toHaveLength(1);
    expect(c.ended).toBe(false);

    rmSync(unplugged);
    await c.waitFor('frame', 3);
    expect(c.of('error')).toHaveLength(1);

    // A new loss is told again.
    writeFileSync(unplugged, '');
    await c.waitFor('error', 2);
    expect(c.of('error')[1]!.error).toMatchObject({ code: 'SOURCE_UNAVAILABLE', message: expect.stringContaining('No such device') });
    rmSync(unplugged);
    const before = c.of('frame').length;
    await c.waitFor('frame', before + 2);
    expect(c.ended).toBe(false);
  });

  it('is told in WELCOME, and gets the ERROR when it asks for a single frame', async () => {
    const { s } = await cameraServer('welcome', true);
    await waitUntil(() => s.hub.info().lastError !== null, 10_000, 'the source to fail');
    const c = await v2(s.tcpPort);
    const [w] = await c.waitFor('welcome');
    expect(['restarting', 'starting']).toContain(w!.welcome.source?.state);
    expect(w!.welcome.source?.error).toContain('No such device');
    c.command('0');
    const [e] = await c.waitFor('error');
    expect(e!.error).toMatchObject({ code: 'SOURCE_UNAVAILABLE', message: expect.stringContaining('No such device') });
    expect(c.ended).toBe(false);
  });

  it('learns why a file source fails, from the real ffmpeg', async () => {
    const clip = join(dir, 'broken.mp4');
    writeFileSync(clip, 'this is not a video');
    const s = await startTestServer({ source: { kind: 'file', path: clip } }, { ffmpeg: resolveFfmpeg(), supervisor: { initialBackoffMs: 50 } });
    servers.push(s);
    const c = await v2(s.tcpPort);
    c.command('3');
    const [e] = await c.waitFor('error');
    expect(e!.error.code).toBe('SOURCE_UNAVAILABLE');
    expect(e!.error.message).toMatch(/^ffmpeg exited with code \d+: .*broken\.mp4/);
    c.ping(Buffer.from('12345678'));
    await c.waitFor('pong');
    expect(c.ended).toBe(false);
  });

  it('is a v2 matter: a legacy client of the same server is sent nothing and stays connected', async () => {
    const { s } = await cameraServer('legacy');
    const legacy = await LegacyClient.connect(s.tcpPort);
    clients.push(legacy);
    legacy.write('3');
    await waitUntil(() => s.hub.info().restarts >= 2, 10_000, 'two failed starts');
    expect(legacy.bytesReceived).toBe(0);
    expect(legacy.ended).toBe(false);
  });
});
