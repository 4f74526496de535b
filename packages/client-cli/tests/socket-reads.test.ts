// A socket reading into one buffer of its own still behaves as a stream socket for its readers:
// every byte once and in order, kept while nobody reads, held back by pause().
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openSocket } from '../src/socket-open.js';
import { oneBufferReads } from '../src/socket-reads.js';
import { waitFor } from './wait-for.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server that sends each of `writes` to whoever connects, `gapMs` apart, then ends; `sent` once it has. */
async function sender(writes: Buffer[], gapMs: number): Promise<{ port: number; sent: Promise<void> }> {
  let done: () => void;
  const sent = new Promise<void>((r) => (done = r));
  const server = createServer(async (s) => {
    for (const w of writes) {
      s.write(w);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    s.end(() => done());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, sent };
}

/** Everything `socket` emits as 'data' from now on, and whether it ended. */
function collect(socket: Socket): { bytes: () => Buffer; ended: () => boolean } {
  const chunks: Buffer[] = [];
  let ended = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.once('end', () => (ended = true));
  socket.resume();
  return { bytes: () => Buffer.concat(chunks), ended: () => ended };
}

describe('a socket reading into one buffer', () => {
  it('delivers every byte once and in order, in chunks that do not change when the buffer is reused', async () => {
    const writes = Array.from({ length: 20 }, (_, i) => Buffer.alloc(50_000 + i, i));
    const { port } = await sender(writes, 2);
    const socket = await openSocket('127.0.0.1', port, 5000, undefined, oneBufferReads(64 * 1024));
    sockets.push(socket);
    const got = collect(socket);
    await waitFor(got.ended, 'the end of the stream');
    expect(got.bytes().equals(Buffer.concat(writes))).toBe(true);
  });

  it('keeps what arrives before anyone reads, and what arrives while paused, for the reader after resume()', async () => {
    const writes = [Buffer.from('first '), Buffer.from('second '), Buffer.from('third')];
    const { port, sent } = await sender(writes, 30);
    const socket = await openSocket('127.0.0.1', port, 5000, undefined, oneBufferReads());
    sockets.push(socket);
    // Nobody reads until the server has sent everything.
    await sent;
    const early: Buffer[] = [];
    socket.pause();
    socket.on('data', (c: Buffer) => early.push(c));
    // A turn of the event loop, in which a flowing socket would have emitted what it had.
    await new Promise((r) => setImmediate(r));
    expect(early).toEqual([]);
    let ended = false;
    socket.once('end', () => (ended = true));
    socket.resume();
    await waitFor(() => ended, 'the end of the stream');
    expect(Buffer.concat(early).toString()).toBe('first second third');
  });
});
