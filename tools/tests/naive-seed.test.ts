// The naive seed implementation must be a working implementation of the seed's design, or the
// benchmarks that compare against it would compare against nothing.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { NaiveSeedClient, readAllFramesSync, startNaiveSeedServer, type NaiveSeedServer } from '../src/naive-seed/index.js';

function v1Stream(frames: Buffer[]): Buffer {
  return Buffer.concat(
    frames.flatMap((f) => {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(f.length, 0);
      return [header, f];
    }),
  );
}

function cut(stream: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let o = 0; o < stream.length; o += size) chunks.push(stream.subarray(o, o + size));
  return chunks;
}

const frames = [randomBytes(5000), randomBytes(1), randomBytes(1024), randomBytes(3000), Buffer.alloc(0), randomBytes(1025)];

describe("the seed's receive loop over chunks in memory", () => {
  it.each([1, 3, 1024, 1500, 65536])('returns every frame of a stream cut into %i-byte chunks', (size) => {
    const got: Buffer[] = [];
    readAllFramesSync(cut(v1Stream(frames), size), (j) => got.push(Buffer.from(j)));
    expect(got).toEqual(frames);
  });

  it('stops at a frame cut short by the end of the stream', () => {
    const stream = v1Stream(frames.slice(0, 2));
    const got: Buffer[] = [];
    readAllFramesSync([stream.subarray(0, 4 + 5000 - 1)], (j) => got.push(j));
    expect(got).toEqual([]);
  });
});

describe('the naive seed server and client', () => {
  let server: NaiveSeedServer | null = null;
  const clients: NaiveSeedClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    server = null;
  });

  async function start(): Promise<NaiveSeedServer> {
    let i = 0;
    server = await startNaiveSeedServer({ read: () => frames[i++ % 4] as Buffer });
    return server;
  }

  async function client(port: number): Promise<NaiveSeedClient> {
    const c = await NaiveSeedClient.connect(port);
    clients.push(c);
    return c;
  }

  it('answers 0 with one frame and the next 0 only after the 1 that confirms it', async () => {
    const s = await start();
    const c = await client(s.port);
    c.send('0');
    expect(await c.receiveImage()).toEqual(frames[0]);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.framesSent).toBe(1);
    c.send('1');
    // Apart, or the seed's strip() reads the glued "10" as one unknown command.
    await new Promise((r) => setTimeout(r, 20));
    c.send('0');
    expect(await c.receiveImage()).toEqual(frames[1]);
  });

  it('streams frames in order after 3, reading them 1024 bytes at a time', async () => {
    const s = await start();
    const c = await client(s.port);
    c.send('3');
    for (let i = 0; i < 8; i++) expect(await c.receiveImage()).toEqual(frames[i % 4]);
    expect(s.framesSent).toBeGreaterThanOrEqual(8);
    const piece = await c.recv(4096);
    expect(piece.length).toBeLessThanOrEqual(1024);
  });

  it('serves one client at a time: the second waits until the first leaves', async () => {
    const s = await start();
    const first = await client(s.port);
    const second = await client(s.port);
    first.send('3');
    second.send('3');
    expect(await first.receiveImage()).toEqual(frames[0]);
    const waiting = second.receiveImage();
    await new Promise((r) => setTimeout(r, 100));
    expect(s.clientsServed).toBe(1);
    first.close();
    expect(await waiting).not.toBeNull();
    expect(s.clientsServed).toBe(2);
  });

  it('writes "Unknown command" into the stream, as the seed did', async () => {
    const s = await start();
    const c = await client(s.port);
    c.send('x');
    let text = '';
    while (text.length < 'Unknown command'.length) text += (await c.recv(1024)).toString();
    expect(text).toBe('Unknown command');
  });
});
