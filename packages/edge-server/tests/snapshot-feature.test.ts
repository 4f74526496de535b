// The `snapshot:` feature, added as a folder and one line in features.ts: a JPEG every so often
// into dir/NAME/, only the newest `keep` kept, shown in /status and /metrics.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEdgeServer, type RunningEdgeServer } from '../src/server.js';
import { config, refusal } from './support/config.js';
import { memoryLogger } from './support/logger.js';
import { waitUntil } from './support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-snapshots-'));
const servers: RunningEdgeServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** The pictures saved: regular files named like one (the test's own symlink is not one). */
const pictures = (camera: string) =>
  readdirSync(join(dir, 'shots', camera), { withFileTypes: true }).filter((e) => e.isFile() && /^\d{8}T\d{6}Z\.jpg$/.test(e.name)).map((e) => e.name);

describe('snapshot: on a camera', { timeout: 60_000 }, () => {
  it('saves a JPEG every so often, keeps only the newest, and reports it in /status and /metrics', async () => {
    const file = join(dir, 'edgecam.yaml');
    // Something of the user's in the folder, and a link named like a picture: neither is ours to delete.
    mkdirSync(join(dir, 'shots', 'front'), { recursive: true });
    writeFileSync(join(dir, 'shots', 'front', 'notes.txt'), 'mine');
    symlinkSync('/etc/hostname', join(dir, 'shots', 'front', '20000101T000000Z.jpg'));
    writeFileSync(
      file,
      ['size: 160x120', 'fps: 10', 'cameras:', '  front:', '    source: testsrc', `    snapshot: {dir: ${join(dir, 'shots')}, every: 1s, keep: 2}`, '  back:', '    source: testsrc', ''].join('\n'),
    );
    const s = await startEdgeServer(config(['--config', file, '--host', '127.0.0.1', '--port', '0', '--http-port', '0']), { logger: memoryLogger('silent').logger });
    servers.push(s);
    const base = `http://127.0.0.1:${s.httpPort}`;
    const snapshots = s.features.get('front')!.snapshot!;
    await waitUntil(() => snapshots.status().saved >= 4, 30_000, 'four pictures saved');
    await waitUntil(() => pictures('front').length === 2, 10_000, () => `two pictures kept (have ${pictures('front').join(', ')})`);
    for (const name of pictures('front')) {
      const jpeg = readFileSync(join(dir, 'shots', 'front', name));
      expect([jpeg[0], jpeg[1], jpeg.at(-2), jpeg.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    }
    expect(readdirSync(join(dir, 'shots', 'front'))).toEqual(expect.arrayContaining(['notes.txt', '20000101T000000Z.jpg']));
    const status = (await (await fetch(`${base}/cams/front/status`)).json()) as { camera: { snapshot: Record<string, unknown> } };
    expect(status.camera.snapshot).toMatchObject({ dir: join(dir, 'shots', 'front'), everyMs: 1000, keep: 2, lastError: null });
    // The other camera has no snapshot: block, so no snapshot status and no pictures.
    expect(((await (await fetch(`${base}/cams/back/status`)).json()) as { camera: Record<string, unknown> }).camera.snapshot).toBeUndefined();
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/edgecam_snapshots_saved\{camera="front"\} [1-9]/);
  });

  it('refuses a bad block naming the key and the forms', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ['cameras:', '  front:', '    source: testsrc', '    snapshot: {dir: /tmp/x, every: often}', ''].join('\n'));
    expect(refusal(['--config', file])).toMatch(/cameras\.front\.snapshot.*every.*"often" is not a duration such as 30s, 10m, 2h or 7d/);
  });
});
