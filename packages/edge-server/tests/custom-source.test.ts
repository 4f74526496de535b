// StartOptions.source: code can bring its own frames (the benchmarks feed pre-encoded JPEGs this
// way) and the server serves them exactly like a captured source, without resolving ffmpeg;
// StartOptions.sources does the same for named cameras.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { V2_MAGIC, encodeHello } from '@edgecam/protocol';
import type { CameraConfig } from '../src/config/camera-config.js';
import { DEFAULT_CONFIG } from '../src/config/config.js';
import { startEdgeServer } from '../src/server.js';
import { memoryLogger } from './support/logger.js';
import { startTestServer, type TestServer } from './support/server.js';
import { LegacyClient, V2Client, openSocket } from './support/clients.js';
import { testPatternJpegs } from './support/jpegs.js';
import { PacedSource } from './support/paced-source.js';
import { waitUntil } from './support/wait.js';

let jpegs: Buffer[];
beforeAll(async () => {
  jpegs = await testPatternJpegs(96, 64, 3);
});

/** 50 fps from memory, with capture times of its own (so the test can tell they are kept). */
const memorySource = (frames: Buffer[]) =>
  new PacedSource(frames, {
    spec: 'memory:test',
    width: 96,
    height: 64,
    fps: 50,
    catchUp: false,
    captureTimeUs: (seq) => 1_700_000_000_000_000 + seq * 20_000,
  });

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('a source given in StartOptions', () => {
  it('is served to a v2 client with its own sequence numbers, capture times and JPEG bytes', async () => {
    const source = memorySource(jpegs);
    // A file source that does not exist: proves config.source is not used when a source is given.
    server = await startTestServer({ source: { kind: 'file', path: '/nonexistent/edgecam.mp4' } }, { source });
    expect(server.ffmpeg).toBeNull();
    const client = await V2Client.connect(server.tcpPort);
    const [welcome] = await client.waitFor('welcome');
    expect(welcome?.welcome).toMatchObject({ width: 96, height: 64, fps: 50 });
    client.command('3');
    const frames = await client.waitFor('frame', 5);
    for (const f of frames) {
      expect(f.captureTimeUs).toBe(1_700_000_000_000_000 + f.seq * 20_000);
      expect(f.jpeg.equals(jpegs[(f.seq - 1) % jpegs.length] as Buffer)).toBe(true);
    }
    const seqs = frames.map((f) => f.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(server.hub.info()).toMatchObject({ kind: 'custom', spec: 'memory:test', width: 96, height: 64 });
    client.close();
  });

  it('is started by the first client and stopped after the last one leaves, like a capture', async () => {
    const source = memorySource(jpegs);
    server = await startTestServer({ idleStop: 0.1 }, { source });
    expect(source.starts).toBe(0);
    const client = await LegacyClient.connect(server.tcpPort);
    client.write('3');
    await client.waitForFrames(3);
    expect(source.starts).toBe(1);
    client.close();
    await waitUntil(() => source.stops === 1, 5000, 'the idle stop to unsubscribe the source');
  });
});

describe('sources given in StartOptions by camera name', () => {
  it('feed each named camera its own frames, without ffmpeg', async () => {
    const camera = (name: string): CameraConfig => ({
      name,
      source: { kind: 'file', path: '/nonexistent/edgecam.mp4' },
      size: { width: 96, height: 64 },
      fps: 50,
      quality: 80,
      idleStop: 1,
      alwaysOn: false,
      legacyPort: null,
    });
    const sources = { one: memorySource(jpegs), two: memorySource([...jpegs].reverse()) };
    const log = memoryLogger();
    const named = await startEdgeServer(
      { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 0, http: false, cameras: [camera('one'), camera('two')] },
      { logger: log.logger, sources },
    );
    server = Object.assign(named, { log });
    expect(server.ffmpeg).toBeNull();
    const client = new V2Client(await openSocket(server.tcpPort));
    client.write(V2_MAGIC);
    client.write(encodeHello({ client: 'vitest', camera: 'two' }));
    const [welcome] = await client.waitFor('welcome');
    expect(welcome?.welcome).toMatchObject({ camera: 'two', width: 96, height: 64 });
    client.command('3');
    const frames = await client.waitFor('frame', 3);
    for (const f of frames) expect(f.jpeg.equals([...jpegs].reverse()[(f.seq - 1) % jpegs.length] as Buffer)).toBe(true);
    expect(sources.two.starts).toBe(1);
    expect(sources.one.starts).toBe(0);
    client.close();
  });
});
