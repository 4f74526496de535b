// v2 clients against a real server on loopback: handshake, frames, ping, and every refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { ServerMessageDecoder, V2_MAGIC, encodeCommandMessage, isWholeJpeg, type ServerMessage } from '@edgecam/protocol';
import { VERSION } from '../src/version.js';
import { LegacyClient, V2Client } from './support/clients.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sleep } from './support/wait.js';

let server: TestServer;
const clients: { close(): void }[] = [];

async function v2(opts: { hello?: boolean } = {}): Promise<V2Client> {
  const c = await V2Client.connect(server.tcpPort, opts);
  clients.push(c);
  return c;
}

/** Sends raw bytes on a fresh connection and collects what the server answers until it closes. */
function exchange(bytes: Buffer): Promise<{ messages: ServerMessage[]; raw: number }> {
  return new Promise((resolve, reject) => {
    const messages: ServerMessage[] = [];
    const decoder = new ServerMessageDecoder();
    let raw = 0;
    const s = connect({ port: server.tcpPort, host: '127.0.0.1' }, () => s.write(bytes));
    s.on('data', (chunk: Buffer) => {
      raw += chunk.length;
      decoder.push(chunk, (m) => messages.push(m));
    });
    s.on('error', reject);
    s.on('close', () => resolve({ messages, raw }));
    setTimeout(() => reject(new Error('the server did not close the connection')), 10_000).unref();
  });
}

function header(type: number, length: number): Buffer {
  const h = Buffer.alloc(5);
  h[0] = type;
  h.writeUInt32BE(length, 1);
  return h;
}

beforeAll(async () => {
  server = await startTestServer({ fps: 20, helloTimeout: 0.4 });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('v2 clients', () => {
  it('get a WELCOME describing the server and the source in answer to HELLO', async () => {
    const c = await v2();
    const [w] = await c.waitFor('welcome');
    expect(w!.welcome).toEqual({ server: 'edgecam-server', version: VERSION, width: 160, height: 120, fps: 20, authRequired: false });
    expect(c.messages[0]!.type).toBe('welcome');
  });

  it('stream FRAMEs with increasing sequence numbers and capture times close to now', async () => {
    const c = await v2();
    await c.waitFor('welcome');
    c.command('3');
    const frames = await c.waitFor('frame', 10);
    c.command('q');
    for (let i = 1; i < frames.length; i++) {
      expect(frames[i]!.seq).toBeGreaterThan(frames[i - 1]!.seq);
      expect(frames[i]!.captureTimeUs).toBeGreaterThan(frames[i - 1]!.captureTimeUs);
    }
    const nowUs = Date.now() * 1000;
    expect(Math.abs(nowUs - frames.at(-1)!.captureTimeUs)).toBeLessThan(5_000_000);
    expect(frames.every((f) => isWholeJpeg(f.jpeg))).toBe(true);
  });

  it('get single frames with 0, like legacy clients', async () => {
    const c = await v2();
    await c.waitFor('welcome');
    c.command('0');
    c.command('1');
    await c.waitFor('frame', 1);
    await sleep(300);
    expect(c.of('frame')).toHaveLength(1);
  });

  it('get a PONG with the 8 bytes of each PING', async () => {
    const c = await v2();
    await c.waitFor('welcome');
    c.ping(Buffer.from('01234567'));
    c.ping(Buffer.from('abcdefgh'));
    const pongs = await c.waitFor('pong', 2);
    expect(pongs.map((p) => p.data.toString())).toEqual(['01234567', 'abcdefgh']);
  });

  it('end only their own session with 2', async () => {
    const a = await v2();
    const b = await v2();
    await Promise.all([a.waitFor('welcome'), b.waitFor('welcome')]);
    a.command('3');
    b.command('3');
    await Promise.all([a.waitFor('frame', 2), b.waitFor('frame', 2)]);
    a.command('2');
    await a.waitClosed();
    const n = b.of('frame').length;
    await b.waitFor('frame', n + 4);
    expect(b.ended).toBe(false);
  });

  it('are closed with HELLO_TIMEOUT when no HELLO comes in time', async () => {
    const t0 = performance.now();
    const { messages } = await exchange(V2_MAGIC);
    expect(messages).toMatchObject([{ type: 'error', error: { code: 'HELLO_TIMEOUT' } }]);
    expect(performance.now() - t0).toBeGreaterThan(300);
  });

  it('must send HELLO first: a COMMAND before it is refused', async () => {
    const { messages } = await exchange(Buffer.concat([V2_MAGIC, encodeCommandMessage('3')]));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ type: 'error', error: { code: 'HELLO_TIMEOUT' } });
  });

  it('get BAD_MAGIC for another protocol version', async () => {
    const { messages } = await exchange(Buffer.from('ECAM\x03', 'latin1'));
    expect(messages).toMatchObject([{ type: 'error', error: { code: 'BAD_MAGIC' } }]);
  });

  it('get MESSAGE_TOO_LARGE for a HELLO over the limit, decided from its header alone', async () => {
    const { messages } = await exchange(Buffer.concat([V2_MAGIC, header(0x01, 0x7fff_ffff)]));
    expect(messages).toMatchObject([{ type: 'error', error: { code: 'MESSAGE_TOO_LARGE' } }]);
  });

  it('get UNKNOWN_MESSAGE_TYPE for a server-to-client type', async () => {
    const c = await v2();
    await c.waitFor('welcome');
    c.write(header(0x82, 0));
    const [err] = await c.waitFor('error');
    expect(err!.error.code).toBe('UNKNOWN_MESSAGE_TYPE');
    await c.waitClosed();
  });

  it('and legacy clients share one port and one capture', async () => {
    const legacy = await LegacyClient.connect(server.tcpPort);
    clients.push(legacy);
    const c = await v2();
    await c.waitFor('welcome');
    legacy.write('3');
    c.command('3');
    await Promise.all([legacy.waitForFrames(5), c.waitFor('frame', 5)]);
    expect(server.registry.count('legacy')).toBeGreaterThanOrEqual(1);
    expect(server.registry.count('v2')).toBeGreaterThanOrEqual(1);
    const info = server.hub.info();
    expect(info.state).toBe('running');
    expect(info.restarts).toBe(0);
  });
});
