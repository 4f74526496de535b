// Tokens on the TCP port, against a real server on loopback: v2 clients present the token in
// HELLO (right, wrong, none), legacy clients are refused unless --allow-legacy, and repeated
// wrong tokens from one address lock it out for a while.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeHello } from '@edgecam/protocol';
import { LegacyClient, V2Client } from './support/clients.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sleep, waitUntil } from './support/wait.js';

const TOKEN = 'tcp-test-token-7f3a';
const servers: TestServer[] = [];
const clients: { close(): void }[] = [];

async function server(overrides: Parameters<typeof startTestServer>[0], opts: Parameters<typeof startTestServer>[1] = {}): Promise<TestServer> {
  const s = await startTestServer({ fps: 20, ...overrides }, opts);
  servers.push(s);
  return s;
}

/** A v2 client that says HELLO with this token (or none). */
async function v2(s: TestServer, token: string | undefined): Promise<V2Client> {
  const c = await V2Client.connect(s.tcpPort, { hello: false });
  clients.push(c);
  c.write(encodeHello(token === undefined ? { client: 'vitest' } : { client: 'vitest', token }));
  return c;
}

async function legacy(s: TestServer): Promise<LegacyClient> {
  const c = await LegacyClient.connect(s.tcpPort);
  clients.push(c);
  return c;
}

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
});

describe('with --token', () => {
  let s: TestServer;
  beforeAll(async () => {
    // Many free failures: these tests fail on purpose, and the lockout has its own test below.
    s = await server({ token: TOKEN }, { accessTuning: { freeFailures: 1000 } });
  });

  it('a v2 client with the right token is welcomed (authRequired) and streams', async () => {
    const c = await v2(s, TOKEN);
    const [w] = await c.waitFor('welcome');
    expect(w!.welcome.authRequired).toBe(true);
    c.command('3');
    await c.waitFor('frame', 3);
    c.command('q');
  });

  it('a v2 client with a wrong token gets ERROR UNAUTHORIZED and is closed, with no frame', async () => {
    const c = await v2(s, 'not-the-token');
    c.command('3');
    await c.waitClosed();
    expect(c.messages.map((m) => m.type)).toEqual(['error']);
    expect(c.of('error')[0]!.error).toEqual({ code: 'UNAUTHORIZED', message: 'wrong token' });
    const line = s.log.lines.find((l) => l.msg === 'access refused: wrong token');
    expect(line).toMatchObject({ via: 'v2' });
    expect(String(line!.peer)).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('a v2 client without a token gets ERROR UNAUTHORIZED and is closed', async () => {
    const before = s.registry.count('v2');
    const c = await v2(s, undefined);
    await c.waitClosed();
    expect(c.messages.map((m) => m.type)).toEqual(['error']);
    expect(c.of('error')[0]!.error.code).toBe('UNAUTHORIZED');
    expect(c.of('error')[0]!.error.message).toBe('no token in HELLO');
    expect(s.registry.count('v2')).toBe(before);
  });

  it('a legacy client is refused: closed without a byte, and the log says why', async () => {
    const c = await legacy(s);
    c.write('0');
    await c.waitClosed();
    expect(c.bytesReceived).toBe(0);
    expect(s.log.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('legacy client refused'))).toBe(true);
    expect(s.registry.count('legacy')).toBe(0);
  });
});

describe('with --token and --allow-legacy', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await server({ token: TOKEN, allowLegacy: true }, { accessTuning: { freeFailures: 1000 } });
  });

  it('a legacy client gets frames without a token', async () => {
    const c = await legacy(s);
    c.write('0');
    const [jpeg] = await c.waitForFrames(1);
    expect(jpeg!.length).toBeGreaterThan(100);
  });

  it('v2 clients still need the token', async () => {
    const bad = await v2(s, undefined);
    await bad.waitClosed();
    expect(bad.of('error')[0]!.error.code).toBe('UNAUTHORIZED');
    const good = await v2(s, TOKEN);
    await good.waitFor('welcome');
  });
});

describe('without --token', () => {
  it('anyone gets in, and WELCOME says no token is required', async () => {
    const s = await server({});
    const c = await v2(s, 'whatever-they-send');
    const [w] = await c.waitFor('welcome');
    expect(w!.welcome.authRequired).toBe(false);
    const l = await legacy(s);
    l.write('0');
    await l.waitForFrames(1);
  });
});

describe('repeated wrong tokens', () => {
  it('lock the address out (the right token included) until the block ends, then it gets in', async () => {
    const blockMs = 5000;
    const s = await server({ token: TOKEN }, { accessTuning: { freeFailures: 2, baseBlockMs: blockMs } });
    // Two wrong tokens (freeFailures: 2) are answered as such; the second starts the block.
    for (const guess of ['guess-1', 'guess-2']) {
      const c = await v2(s, guess);
      await c.waitClosed();
      expect(c.of('error')[0]!.error.message).toBe('wrong token');
    }
    const lockedAt = performance.now();
    const refused = await v2(s, TOKEN);
    await refused.waitClosed();
    expect(refused.of('error')[0]!.error).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(refused.of('error')[0]!.error.message).toMatch(/^too many wrong tokens from 127\.0\.0\.1; try again in [1-5] s$/);
    // The block is logged once (with the block length), not once per refused attempt.
    expect(s.log.lines.filter((l) => l.msg === 'access refused: wrong token' && l.blockedForMs === blockMs)).toHaveLength(1);

    await sleep(Math.max(0, blockMs - (performance.now() - lockedAt)) + 200);
    const again = await v2(s, TOKEN);
    await again.waitFor('welcome');
    await waitUntil(() => s.registry.count('v2') === 1, 5000, 'the client to be registered');
  });
});
