import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJpegInfo } from '@edgecam/protocol';
import { parseServerAddress } from '../src/cameras-command.js';
import { cleanupsAfterEach } from './cleanups.js';
import { startFakeSeedServer } from './fake-seed-server.js';
import { startFakeV2Server } from './fake-v2-server.js';
import { runCli, tempDir } from './run-cli.js';
import { testFrames } from './test-frames.js';

const cleanups = cleanupsAfterEach();

async function multiCamera(cameras = ['front', 'door']) {
  const v2 = await startFakeV2Server({ frames: testFrames(), cameras });
  cleanups.push(() => v2.close());
  return v2;
}

describe('--camera', () => {
  it('names the camera in HELLO, and a snapshot comes from it', async () => {
    const v2 = await multiCamera();
    const cwd = tempDir();
    const r = await runCli(['--port', String(v2.port), '--camera', 'door', 'snapshot', '-o', 'door.jpg'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(v2.hellos[0]).toMatchObject({ camera: 'door' });
    expect(readJpegInfo(readFileSync(join(cwd, 'door.jpg')))).toMatchObject({ width: 160, height: 120 });
  });

  it('is read from EDGECAM_CAMERA, and sent by record too', async () => {
    const v2 = await multiCamera();
    const r = await runCli(['--port', String(v2.port), 'record', '--frames', '2', '-o', 'r.avi'], { cwd: tempDir(), env: { EDGECAM_CAMERA: 'front' } });
    expect(r.code).toBe(0);
    expect(v2.hellos[0]).toMatchObject({ camera: 'front' });
  });

  it('says which cameras exist when the server does not have the one asked for', async () => {
    const v2 = await multiCamera();
    const r = await runCli(['--port', String(v2.port), '--camera', 'back', 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('edgecam: the server refused the camera: no camera "back"; this server has: front, door (UNKNOWN_CAMERA); pick one of them with --camera\n');
  });

  it('is refused with --protocol legacy: legacy clients pick a camera by port', async () => {
    const r = await runCli(['--protocol', 'legacy', '--camera', 'door', 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("edgecam: --camera needs the v2 protocol: legacy clients pick a camera by port (connect to the camera's legacyPort without --camera)");
  });

  it('is refused by a legacy server in auto mode instead of showing its one camera', async () => {
    const seed = await startFakeSeedServer({ frames: testFrames() });
    cleanups.push(() => seed.close());
    const r = await runCli(['--port', String(seed.port), '--camera', 'door', 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/speaks only the legacy protocol .*which cannot pick a camera: a legacy server serves one camera per port; leave out --camera/);
    expect(seed.framesSent()).toBe(0);
  });

  it('is refused by a v2 server that does not name its cameras', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames() });
    cleanups.push(() => v2.close());
    const r = await runCli(['--port', String(v2.port), '--camera', 'door', 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('does not name its cameras (it serves one); leave out --camera');
  });
});

describe('edgecam cameras', () => {
  it('lists the cameras, the default marked, from HOST:PORT', async () => {
    const v2 = await multiCamera(['front', 'door', 'yard']);
    const r = await runCli(['cameras', `127.0.0.1:${v2.port}`], { cwd: tempDir() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('front (default)\ndoor\nyard\n');
    expect(v2.hellos[0]?.camera).toBeUndefined();
  });

  it('prints JSON with --json', async () => {
    const v2 = await multiCamera();
    const r = await runCli(['--port', String(v2.port), 'cameras', '--json'], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ address: `127.0.0.1:${v2.port}`, protocol: 'v2', server: expect.stringContaining('fake-v2'), cameras: ['front', 'door'], default: 'front' });
  });

  it('says an older server serves one camera', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames() });
    cleanups.push(() => v2.close());
    const r = await runCli(['cameras', `:${v2.port}`], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`127.0.0.1:${v2.port} serves one camera (it does not name its cameras); connect without --camera\n`);
    const j = await runCli(['cameras', '--json', `:${v2.port}`], { cwd: tempDir() });
    expect(JSON.parse(j.stdout)).toMatchObject({ protocol: 'v2', cameras: null, default: null });
  });

  it('says a legacy server serves one camera', async () => {
    const seed = await startFakeSeedServer({ frames: testFrames() });
    cleanups.push(() => seed.close());
    const r = await runCli(['cameras', `127.0.0.1:${seed.port}`], { cwd: tempDir() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`127.0.0.1:${seed.port} serves one camera (a legacy server); connect without --camera\n`);
  });

  it('reads HOST, HOST:PORT, [IPv6]:PORT and :PORT', () => {
    const g = { host: '127.0.0.1', port: 6810 };
    expect(parseServerAddress('cam.local', g)).toEqual({ host: 'cam.local', port: 6810 });
    expect(parseServerAddress('cam.local:7000', g)).toEqual({ host: 'cam.local', port: 7000 });
    expect(parseServerAddress('[::1]:7000', g)).toEqual({ host: '::1', port: 7000 });
    expect(parseServerAddress(':7000', g)).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(parseServerAddress('cam:99999', g)).toBeUndefined();
  });
});
