// Per-host limits on the HTTP side: --max-per-address open streams, and --http-rate-limit counted
// per host, with a budget per IPv6 /64 that only lengthens the wait of hosts already over their
// own. Over loopback, 127.0.0.1 and 127.0.0.2 are two hosts.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HostRateLimiter } from '../src/access/rate-limiter.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { FixedMetrics, RecordingRegistry } from './http-fixtures/fake-registry.js';
import { startHttpServer, type RunningHttpServer } from './http-fixtures/harness.js';
import { waitUntil } from './support/wait.js';

let running: RunningHttpServer | undefined;
const requests: ClientRequest[] = [];

afterEach(async () => {
  for (const r of requests.splice(0)) r.destroy();
  await running?.close();
  running = undefined;
});

/** A GET from `localAddress`, resolved at the response head; the body is left flowing. */
function get(port: number, path: string, localAddress: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false }, resolve);
    req.on('error', reject);
    req.end();
    requests.push(req);
  });
}

async function bodyOf(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('--max-per-address on HTTP streams', () => {
  it('refuses the (N+1)th stream of one address with a reason, admits another address, and admits again once one closes', async () => {
    const registry = new RecordingRegistry();
    running = await startHttpServer({ hub: new FakeHub(), registry, metrics: new FixedMetrics(), maxPerAddress: 2 });
    const { port } = running;
    const first = await get(port, '/stream.mjpg', '127.0.0.1');
    const second = await get(port, '/stream', '127.0.0.1');
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);

    const third = await get(port, '/?action=stream', '127.0.0.1');
    expect(third.statusCode).toBe(429);
    expect(third.headers['retry-after']).toBeDefined();
    const refusal = JSON.parse(await bodyOf(third)) as { error: { code: string; message: string } };
    expect(refusal.error.code).toBe('TOO_MANY_STREAMS');
    expect(refusal.error.message).toContain('--max-per-address');
    expect(refusal.error.message).not.toContain('\n');

    const other = await get(port, '/stream.mjpg', '127.0.0.2');
    expect(other.statusCode).toBe(200);

    // Closing one stream gives its slot back.
    first.destroy();
    await waitUntil(() => registry.live.size === 2, 5_000, 'the first stream to close on the server');
    const again = await get(port, '/stream.mjpg', '127.0.0.1');
    expect(again.statusCode).toBe(200);
  });

  it('does not limit HEAD, which opens no stream', async () => {
    running = await startHttpServer({ hub: new FakeHub(), registry: new RecordingRegistry(), metrics: new FixedMetrics(), maxPerAddress: 1 });
    const open = await get(running.port, '/stream.mjpg', '127.0.0.1');
    expect(open.statusCode).toBe(200);
    const head = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: running!.port, path: '/stream.mjpg', method: 'HEAD', agent: false }, resolve);
      req.on('error', reject);
      req.end();
      requests.push(req);
    });
    expect(head.statusCode).toBe(200);
  });
});

describe('--http-rate-limit per host', () => {
  it('refuses an address over its budget while another address still gets in', async () => {
    // A rate this low refills nothing within the test.
    const rateLimiter = new HostRateLimiter({ ratePerSecond: 0.001, burst: 2 });
    running = await startHttpServer({ hub: new FakeHub(), registry: new RecordingRegistry(), metrics: new FixedMetrics(), rateLimiter });
    const { port } = running;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await get(port, '/healthz', '127.0.0.1');
      await bodyOf(res);
      statuses.push(res.statusCode!);
    }
    expect(statuses.slice(0, 2)).not.toContain(429);
    expect(statuses[2]).toBe(429);
    const other = await get(port, '/healthz', '127.0.0.2');
    await bodyOf(other);
    expect(other.statusCode).not.toBe(429);
  });
});

describe('HostRateLimiter', () => {
  const limit = { ratePerSecond: 1, burst: 2 };

  it('counts IPv6 hosts sharing a /64 apart', () => {
    const r = new HostRateLimiter(limit);
    expect([0, 1].map(() => r.take('2001:db8::1', 0))).toEqual([0, 0]);
    expect(r.take('2001:db8::1', 0)).toBeGreaterThan(0);
    expect(r.take('2001:db8::2', 0)).toBe(0);
    // The same host written another way is the same host.
    expect(r.take('2001:0db8:0:0::1%eth0', 0)).toBeGreaterThan(0);
  });

  /** A host rotating through its /64, a few requests from each address, far over the /64's budget. */
  const rotate = (r: HostRateLimiter, now: number, addresses = 1000): void => {
    for (let i = 0; i < addresses; i++) for (let k = 0; k < limit.burst; k++) r.take(`2001:db8::${(0x1000 + i).toString(16)}`, now);
  };

  it('never refuses a neighbour within its own budget while another host spends its /64 many times over', () => {
    const r = new HostRateLimiter(limit);
    rotate(r, 0);
    // Its burst at once, then its rate for a minute, with the rotation going on all the while.
    const waits = [0, 1].map(() => r.take('2001:db8::1', 0));
    for (let s = 1; s <= 60; s++) {
      rotate(r, s * 1000, 100);
      waits.push(r.take('2001:db8::1', s * 1000));
    }
    expect(waits.every((w) => w === 0)).toBe(true);
  });

  it('makes a host over its own budget in a spent /64 wait longer for each request it sends while refused', () => {
    const quiet = new HostRateLimiter(limit);
    const busy = new HostRateLimiter(limit);
    rotate(busy, 0);
    const tenOver = (r: HostRateLimiter): number[] => Array.from({ length: limit.burst + 10 }, () => r.take('2001:db8::1', 0)).slice(limit.burst);
    // Alone in its /64 it waits for its own budget, however often it asks.
    expect(tenOver(quiet)).toEqual(Array(10).fill(1000 / limit.ratePerSecond));
    // In a spent /64 each refused request adds to its wait, up to owing its whole burst.
    const busyWaits = tenOver(busy);
    expect(busyWaits[0]).toBe(2000);
    expect(busyWaits.at(-1)).toBe(((limit.burst + 1) * 1000) / limit.ratePerSecond);
    // Once that is over, it gets in again.
    expect(busy.take('2001:db8::1', busyWaits.at(-1)!)).toBe(0);
  });

  it('gives every /64 its own measure, and lets a host over its own budget spend none of it', () => {
    const r = new HostRateLimiter(limit);
    for (let i = 0; i < 1000; i++) r.take('2001:db8::1', 0);
    // The one host took its burst alone: its /64 is not spent, so the next host over its budget waits the usual time.
    for (let k = 0; k < limit.burst; k++) expect(r.take('2001:db8::2', 0)).toBe(0);
    expect(r.take('2001:db8::2', 0)).toBe(1000 / limit.ratePerSecond);
    rotate(r, 0);
    expect(r.take('2001:db8:0:1::1', 0)).toBe(0);
    for (let k = 0; k < limit.burst; k++) r.take('2001:db8:0:1::1', 0);
    expect(r.take('2001:db8:0:1::1', 0)).toBe(1000 / limit.ratePerSecond);
  });

  it('counts IPv4 (also mapped) per address with the host budget alone', () => {
    const r = new HostRateLimiter(limit);
    expect([0, 1].map(() => r.take('192.0.2.7', 0))).toEqual([0, 0]);
    expect(r.take('::ffff:192.0.2.7', 0)).toBeGreaterThan(0);
    expect(r.take('192.0.2.8', 0)).toBe(0);
  });
});
