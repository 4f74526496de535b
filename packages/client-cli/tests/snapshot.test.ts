import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJpegInfo } from '@edgecam/protocol';
import { cleanupsAfterEach } from './cleanups.js';
import { startFakeSeedServer } from './fake-seed-server.js';
import { startFakeV2Server } from './fake-v2-server.js';
import { runCli, tempDir } from './run-cli.js';
import { testFrames } from './test-frames.js';
import { waitFor } from './wait-for.js';

const cleanups = cleanupsAfterEach();

describe('edgecam snapshot', () => {
  it('saves one frame from a seed server as snapshot_<unix ms>.jpg, acknowledging it', async () => {
    const seed = await startFakeSeedServer({ frames: testFrames() });
    cleanups.push(() => seed.close());
    const cwd = tempDir();
    const before = Date.now();
    const r = await runCli(['--port', String(seed.port), 'snapshot'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = readdirSync(cwd);
    expect(files).toHaveLength(1);
    const m = /^snapshot_(\d+)\.jpg$/.exec(files[0]!);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(before);
    expect(Number(m![1])).toBeLessThanOrEqual(Date.now());
    const jpeg = readFileSync(join(cwd, files[0]!));
    expect(testFrames().some((f) => f.equals(jpeg))).toBe(true);
    expect(readJpegInfo(jpeg)).toMatchObject({ width: 160, height: 120 });
    expect(r.stdout).toMatch(new RegExp(`^saved ${files[0]!.replace('.', '\\.')} \\(160x120, [\\d.]+ kB, legacy protocol\\)\\n$`));
    // The v2 opening (refused with text), then 0 and its ack 1 on the legacy connection.
    await waitFor(() => seed.commands.length === 3, 'the ack');
    expect(seed.commands.slice(1)).toEqual(['0', '1']);
  });

  it('takes snapshot after snapshot from one seed server, which only works if each was acknowledged', async () => {
    const seed = await startFakeSeedServer({ frames: testFrames() });
    cleanups.push(() => seed.close());
    const cwd = tempDir();
    for (const name of ['a.jpg', 'b.jpg', 'c.jpg']) {
      const r = await runCli(['--port', String(seed.port), '--protocol', 'legacy', '--timeout', '3', 'snapshot', '-o', name], { cwd });
      expect(r.code).toBe(0);
    }
    expect(readdirSync(cwd).sort()).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(seed.framesSent()).toBe(3);
  });

  it('speaks v2 to a v2 server, with the token', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames(), token: 's3cret' });
    cleanups.push(() => v2.close());
    const cwd = tempDir();
    const r = await runCli(['--port', String(v2.port), '--token', 's3cret', 'snapshot', '-o', 'shot.jpg'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^saved shot\.jpg \(160x120, [\d.]+ kB, v2 protocol\)\n$/);
    expect(readJpegInfo(readFileSync(join(cwd, 'shot.jpg')))).toMatchObject({ width: 160, height: 120 });
    expect(v2.commands).toEqual(['0', '1']);
  });

  it('exits 3 with the server\'s reason when the token is wrong, saving nothing', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames(), token: 'right' });
    cleanups.push(() => v2.close());
    const cwd = tempDir();
    const r = await runCli(['--port', String(v2.port), 'snapshot'], { cwd, env: { EDGECAM_TOKEN: 'wrong' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('edgecam: the server refused our token: token missing or wrong (UNAUTHORIZED); check --token or EDGECAM_TOKEN\n');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('exits 5 when the file cannot be written, leaving nothing behind', async () => {
    const seed = await startFakeSeedServer({ frames: testFrames() });
    cleanups.push(() => seed.close());
    const cwd = tempDir();
    const r = await runCli(['--port', String(seed.port), 'snapshot', '-o', 'no/such/dir/shot.jpg'], { cwd });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe('edgecam: could not write no/such/dir/shot.jpg: no such file or directory\n');
    expect(readdirSync(cwd)).toEqual([]);
  });
});
