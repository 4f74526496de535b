// The log is no amplifier: whatever a peer sends, the lines it causes are bounded per peer and
// message and overall, and what was left out is summarised ('N similar lines suppressed').
// Over real loopback sockets, the log captured in memory at the server's default level (info).
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { V2_MAGIC, encodeHello } from '@edgecam/protocol';
import { LogLimiter } from '../src/log/log-limiter.js';
import { LegacyClient } from './support/clients.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

const TOKEN = 'log-limits-token-0d15ea5e';
/** Log bytes a flood below may cause at most; unbounded, each causes 160 KiB to 7 MiB. */
const LOG_BOUND_BYTES = 64 * 1024;
// The default bursts, a slower refill and longer windows than the defaults, so that a slow run
// on a loaded machine stays far below the bound too.
const LOG_LIMITS = { perPeerPerSecond: 0.5, summaryAfterMs: 1000 };
const servers: TestServer[] = [];

/** A logger that keeps its lines and counts the bytes written. */
function byteLogger(level: pino.LevelWithSilent = 'info') {
  const out = { bytes: 0, lines: [] as Record<string, unknown>[] };
  const logger = pino({ level }, {
    write: (s: string) => {
      out.bytes += Buffer.byteLength(s);
      out.lines.push(JSON.parse(s) as Record<string, unknown>);
    },
  });
  return { logger, out };
}

/** Lines with this message that were written, plus those summarised as suppressed. */
function accounted(lines: Record<string, unknown>[], msg: string): number {
  let n = 0;
  for (const l of lines) {
    if (l.msg === msg) n++;
    else if (l.like === msg) n += l.suppressed as number;
  }
  return n;
}

async function server(level: pino.LevelWithSilent, overrides: Parameters<typeof startTestServer>[0] = {}) {
  const { logger, out } = byteLogger(level);
  // The control-message budget would stop these floods early (tcp-control-flood.test.ts): lifted
  // here, so that what is measured is the log limiter alone.
  const s = await startTestServer(
    { fps: 10, httpPort: 0, httpRateLimit: 0, ...overrides },
    { logger, logLimits: LOG_LIMITS, tcpLimits: { controlBurst: 1_000_000, controlPerSecond: 1_000_000 } },
  );
  servers.push(s);
  return { s, out };
}

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('a peer flooding the server', () => {
  it('repeating `3q` on a legacy connection: the log stays bounded and says how much it left out', async () => {
    const { s, out } = await server('info');
    const pairs = 20_000; // 40 KB in; unbounded, 40,000 lines (about 8 MB) out
    const c = await LegacyClient.connect(s.tcpPort);
    const before = out.bytes;
    c.write('3q'.repeat(pairs));
    await waitUntil(() => accounted(out.lines, 'streaming stopped') === pairs, 50_000, () => `all ${pairs} stops accounted for (${accounted(out.lines, 'streaming stopped')})`);
    expect(accounted(out.lines, 'streaming started')).toBe(pairs);
    expect(out.bytes - before).toBeLessThan(LOG_BOUND_BYTES);
    expect(out.lines.some((l) => typeof l.msg === 'string' && /^\d+ similar lines suppressed$/.test(l.msg))).toBe(true);
    c.close();
  }, 60_000);

  it('HELLOs without a token, one connection each: refusals are bounded and summarised', async () => {
    const { s, out } = await server('info', { token: TOKEN });
    const hellos = 1000;
    const hello = Buffer.concat([V2_MAGIC, encodeHello({ client: 'flood' })]);
    const before = out.bytes;
    for (let i = 0; i < hellos; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, () => new Promise<void>((resolve) => {
          const sock = connect({ host: '127.0.0.1', port: s.tcpPort }, () => sock.write(hello));
          sock.resume(); // read the ERROR, so the server's close reaches us
          sock.on('error', () => {});
          sock.on('close', () => resolve());
        })),
      );
    }
    await waitUntil(() => accounted(out.lines, 'access refused: no token presented') === hellos, 50_000, 'every refusal accounted for');
    expect(out.bytes - before).toBeLessThan(LOG_BOUND_BYTES);
  }, 60_000);

  it('unauthenticated /stream.mjpg requests: refusals are bounded and summarised', async () => {
    const { s, out } = await server('info', { token: TOKEN });
    const requests = 1000;
    const before = out.bytes;
    for (let i = 0; i < requests; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const res = await fetch(`http://127.0.0.1:${s.httpPort}/stream.mjpg`);
          expect(res.status).toBe(401);
          await res.arrayBuffer();
        }),
      );
    }
    await waitUntil(() => accounted(out.lines, 'access refused: no token presented') === requests, 50_000, 'every refusal accounted for');
    expect(out.bytes - before).toBeLessThan(LOG_BOUND_BYTES);
  }, 60_000);
});

describe('LogLimiter', () => {
  const limits = { perPeerBurst: 3, perPeerPerSecond: 1, overallBurst: 10, overallPerSecond: 5, summaryAfterMs: 60_000, maxSummaries: 4 };

  it('writes a burst per peer and message, counts the rest, and summarises them per peer', () => {
    let now = 0;
    const { logger, out } = byteLogger('debug');
    const limiter = new LogLimiter(limits, () => now);
    const a = limiter.forPeer(logger, '192.0.2.1').child({ peer: '192.0.2.1:1000' });
    const b = limiter.forPeer(logger, '::ffff:192.0.2.2');
    for (let i = 0; i < 10; i++) a.warn({ i }, 'bad thing');
    a.info('other thing');
    b.warn('bad thing');
    expect(out.lines.map((l) => l.msg)).toEqual(['bad thing', 'bad thing', 'bad thing', 'other thing', 'bad thing']);
    now += 2000; // two more lines' worth
    for (let i = 0; i < 5; i++) a.warn('bad thing');
    limiter.flush();
    const summary = out.lines.at(-1)!;
    expect(summary).toMatchObject({ msg: '10 similar lines suppressed', suppressed: 10, like: 'bad thing', peerAddress: '192.0.2.1', peer: '192.0.2.1:1000', level: 40 });
    // A new window starts afresh: nothing pending, nothing more written.
    const written = out.lines.length;
    limiter.flush();
    expect(out.lines.length).toBe(written);
  });

  it('bounds all peers together, and its state, however many addresses a flood comes from', () => {
    const { logger, out } = byteLogger('info');
    const limiter = new LogLimiter({ ...limits, maxKeys: 100 }, () => 0);
    for (let i = 0; i < 50_000; i++) limiter.forPeer(logger, `2001:db8::${i.toString(16)}`).info('refused');
    expect(out.lines).toHaveLength(10);
    expect(limiter.size.budgets).toBeLessThanOrEqual(100);
    expect(limiter.size.pending).toBeLessThanOrEqual(4);
    limiter.flush();
    const summaries = out.lines.slice(10);
    expect(summaries).toHaveLength(5);
    expect(summaries.reduce((n, l) => n + (l.suppressed as number), 0)).toBe(50_000 - 10);
  });

  it('spends no budget on lines the level drops', () => {
    const { logger, out } = byteLogger('info');
    const log = new LogLimiter(limits, () => 0).forPeer(logger, '192.0.2.1');
    for (let i = 0; i < 100; i++) log.debug('chatter');
    log.info('chatter');
    expect(out.lines.map((l) => l.msg)).toEqual(['chatter']);
    expect(log.isLevelEnabled('debug')).toBe(false);
  });
});
