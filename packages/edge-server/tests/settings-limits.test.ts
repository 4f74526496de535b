// PUT settings stays within what the operator configured: each camera's maxSize and maxFps,
// by default its configured size and rate. A LAN peer cannot ask the board for 8192x8192 at
// 240 fps; the refusal names the ceiling and the config key that raises it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/config/config.js';
import { renderIndexPage } from '../src/http/index-page.js';
import { startEdgeServer, type RunningEdgeServer } from '../src/server.js';
import { config, refusal } from './support/config.js';
import { memoryLogger } from './support/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-limits-'));
let server: RunningEdgeServer;
let url: string;

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n'));
  return path;
}

const EXHAUSTING = { width: 8192, height: 8192, fps: 240, quality: 100 };

async function put(path: string, body: unknown): Promise<{ status: number; message: string; settings?: Record<string, number> }> {
  const res = await fetch(`${url}${path}`, { method: 'PUT', body: JSON.stringify(body) });
  const json = (await res.json()) as { error?: { message: string }; settings?: Record<string, number> };
  return { status: res.status, message: json.error?.message ?? '', settings: json.settings };
}

beforeAll(async () => {
  const yaml = file('edgecam.yaml', [
    'host: 127.0.0.1',
    'port: 0',
    'httpPort: 0',
    'size: 160x120',
    'fps: 10',
    'idleStop: 1',
    'cameras:',
    '  plain:',
    '  roomy:',
    '    maxSize: 320x240',
    '    maxFps: 15',
  ]);
  const parsed = parseCommandLine(['--config', yaml], {});
  if (!('config' in parsed)) throw new Error(parsed.output);
  server = await startEdgeServer(parsed.config, { logger: memoryLogger('silent').logger, statsIntervalMs: 0 });
  url = `http://127.0.0.1:${server.httpPort}`;
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PUT settings above the camera ceiling', () => {
  it('refuses 8192x8192 at 240 fps with a 400 naming the ceiling and the key that raises it, and leaves the camera as it was', async () => {
    const r = await put('/cams/plain/settings', EXHAUSTING);
    expect(r.status).toBe(400);
    expect(r.message).toContain('maxSize 160x120');
    expect(r.message).toContain('cameras.plain.maxSize');
    expect(r.message).toContain('--max-size');
    const camera = server.cameras.get('plain')!;
    expect(camera.settings()).toEqual({ width: 160, height: 120, fps: 10, quality: 80 });
    expect(camera.lastChange()).toBeNull();
  });

  it('refuses a rate above maxFps, naming it', async () => {
    const r = await put('/cams/roomy/settings', { fps: 30 });
    expect(r.status).toBe(400);
    expect(r.message).toContain('maxFps 15');
    expect(r.message).toContain('cameras.roomy.maxFps');
  });

  it('refuses the same on the root path, for the default camera', async () => {
    const r = await put('/settings', { width: 161 });
    expect(r.status).toBe(400);
    expect(r.message).toContain('maxSize 160x120');
  });

  it('takes anything up to the ceiling', async () => {
    const r = await put('/cams/roomy/settings', { width: 320, height: 240, fps: 15 });
    expect(r.status).toBe(200);
    expect(r.settings).toMatchObject({ width: 320, height: 240, fps: 15 });
    expect((await put('/cams/plain/settings', { width: 128, height: 96, fps: 5 })).status).toBe(200);
  });

  it('shows each camera its ceiling in /status, which the page sets as the form maximum', async () => {
    const status = (await (await fetch(`${url}/status`)).json()) as { cameras: { name: string; limits: unknown }[] };
    expect(Object.fromEntries(status.cameras.map((c) => [c.name, c.limits]))).toEqual({
      plain: { maxWidth: 160, maxHeight: 120, maxFps: 10 },
      roomy: { maxWidth: 320, maxHeight: 240, maxFps: 15 },
    });
    expect(renderIndexPage('edgecam', '0')).toMatch(/current\.limits/);
  });
});

describe('maxSize and maxFps in the configuration', () => {
  it('are flags and variables for the one camera, defaulting to its size and rate', () => {
    expect(config([])).toMatchObject({ maxSize: null, maxFps: null });
    expect(config(['--size', '320x240', '--fps', '20', '--max-size', '1280x720', '--max-fps', '25'])).toMatchObject({ maxSize: { width: 1280, height: 720 }, maxFps: 25 });
    expect(config([], { EDGECAM_MAX_SIZE: '800x600', EDGECAM_MAX_FPS: '12.5', EDGECAM_FPS: '10' })).toMatchObject({ maxSize: { width: 800, height: 600 }, maxFps: 12.5 });
    expect(refusal(['--max-size', 'big'])).toMatch(/^--max-size: expected WIDTHxHEIGHT/);
  });

  it('are per camera in a file, a top-level value the default of every camera', () => {
    const c = config(['--config', file('cams.yaml', ['maxSize: 1280x720', 'cameras:', '  a:', '  b:', '    maxSize: 640x480', '    maxFps: 60'])]);
    expect(c.cameras?.map((x) => [x.name, x.maxSize?.width, x.maxSize?.height, x.maxFps])).toEqual([
      ['a', 1280, 720, null],
      ['b', 640, 480, 60],
    ]);
  });

  it('refuses a ceiling below the size or rate it is set for', () => {
    expect(refusal(['--size', '640x480', '--max-size', '320x240'])).toBe('--max-size: 320x240 is below the capture size 640x480; raise it, or lower --size');
    expect(refusal(['--fps', '30', '--max-fps', '15'])).toBe('--max-fps: 15 is below the capture rate 30; raise it, or lower --fps');
    const f = file('low.yaml', ['cameras:', '  a:', '    size: 320x240', '    maxSize: 160x120']);
    expect(refusal(['--config', f])).toBe(`${f}: cameras.a.maxSize: 160x120 is below the capture size 320x240; raise it, or lower the camera's size`);
  });
});
