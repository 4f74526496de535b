// The seed's own protocol use, from Python, as its client does it (tests/seed_client.py).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from './support/server.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./seed_client.py', import.meta.url));
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ fps: 20 });
});

afterAll(async () => {
  await server.close();
});

async function seedClient(frames: number): Promise<Record<string, unknown>> {
  const { stdout } = await run('python3', [script, '127.0.0.1', String(server.tcpPort), String(frames)], { timeout: 30_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe("the seed's Python client protocol", () => {
  it('gets its single frame, its stream, stops, and is let go on "2"', async () => {
    const r = await seedClient(20);
    expect(r).toMatchObject({ stream_frames: 20, closed_by_server: true });
    expect(r.single_bytes).toBeGreaterThan(500);
    // After q at most the frames already in flight arrive.
    expect(r.drained_after_q).toBeLessThanOrEqual(2);
  });

  it('works for several such clients at once', async () => {
    const results = await Promise.all([seedClient(10), seedClient(10), seedClient(10), seedClient(10)]);
    for (const r of results) expect(r).toMatchObject({ stream_frames: 10, closed_by_server: true });
  });
});
