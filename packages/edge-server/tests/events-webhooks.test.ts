import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from './support/logger.js';
import { WebhookSender } from '../src/events/webhook-sender.js';
import type { EventJson } from '../src/camera/event-bus.js';
import { waitUntil } from './support/wait.js';

interface Hit {
  body: EventJson;
  headers: IncomingMessage['headers'];
}

const servers: Server[] = [];
const senders: WebhookSender[] = [];
afterEach(() => {
  for (const s of senders.splice(0)) s.close();
  for (const s of servers.splice(0)) s.closeAllConnections(), s.close();
});

/** A webhook endpoint answering each request with the next status (the last one repeats; 0: no answer). */
async function endpoint(statuses: number[]): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      hits.push({ body: JSON.parse(data) as EventJson, headers: req.headers });
      const status = statuses[Math.min(hits.length - 1, statuses.length - 1)]!;
      if (status !== 0) res.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits };
}

const event = (id: string, phase: EventJson['phase'] = 'start'): EventJson => ({
  id, camera: 'front', type: 'motion', phase, startedAt: 1, score: 0.5,
});

function sender(url: string, tuning: ConstructorParameters<typeof WebhookSender>[2] = {}, events: EventJson['phase'][] = ['start', 'end']) {
  const log = memoryLogger();
  const s = new WebhookSender({ url, headers: { Authorization: 'Bearer abc' }, events }, log.logger, { initialDelayMs: 10, maxDelayMs: 40, ...tuning });
  senders.push(s);
  return { s, log };
}

describe('webhooks', () => {
  it('POSTs the event JSON with the configured headers, only for the phases asked for', async () => {
    const ep = await endpoint([204]);
    const { s } = sender(ep.url);
    s.offer(event('a', 'update'));
    s.offer(event('a', 'start'));
    s.offer(event('a', 'end'));
    await waitUntil(() => s.stats.sent === 2, 10_000, 'two webhooks');
    expect(ep.hits.map((h) => h.body.phase)).toEqual(['start', 'end']);
    expect(ep.hits[0]!.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer abc' });
  });

  it('retries a 5xx with backoff until it goes through, in order', async () => {
    const ep = await endpoint([503, 500, 200]);
    const { s, log } = sender(ep.url);
    s.offer(event('a'));
    s.offer(event('b'));
    await waitUntil(() => s.stats.sent === 2, 10_000, 'both delivered');
    expect(ep.hits.map((h) => h.body.id)).toEqual(['a', 'a', 'a', 'b']);
    expect(s.stats.retries).toBe(2);
    const delays = log.lines.filter((l) => l.msg === 'webhook failed; retrying').map((l) => l.retryInMs);
    expect(delays).toEqual([10, 20]);
  });

  it('gives an event up after maxAttempts, and a 4xx at once', async () => {
    const ep = await endpoint([500]);
    const { s } = sender(ep.url, { maxAttempts: 3 });
    s.offer(event('a'));
    await waitUntil(() => s.stats.failed === 1, 10_000, 'the event given up');
    expect(ep.hits.length).toBe(3);
    const refusing = await endpoint([404]);
    const r = sender(refusing.url).s;
    r.offer(event('b'));
    await waitUntil(() => r.stats.failed === 1, 10_000, 'the 404 given up');
    expect(refusing.hits.length).toBe(1);
  });

  it('times a silent endpoint out and retries it', async () => {
    const ep = await endpoint([0, 200]);
    const { s, log } = sender(ep.url, { timeoutMs: 100 });
    s.offer(event('a'));
    await waitUntil(() => s.stats.sent === 1, 10_000, 'delivery after a timeout');
    expect(log.lines.find((l) => l.msg === 'webhook failed; retrying')?.err).toBe('no answer within 100 ms');
  });

  it('keeps a bounded queue while the endpoint is down, dropping the oldest', async () => {
    const ep = await endpoint([0, 200]);
    const { s } = sender(ep.url, { maxQueue: 3, timeoutMs: 200 });
    for (let i = 1; i <= 10; i++) s.offer(event(`e${i}`));
    await waitUntil(() => s.stats.sent === 4, 10_000, 'the queue delivered');
    // e1 was in flight (its request timed out and was retried); e2..e7 were dropped.
    expect(s.stats.dropped).toBe(6);
    expect(ep.hits.map((h) => h.body.id)).toEqual(['e1', 'e1', 'e8', 'e9', 'e10']);
  });

  it('reads a few KB of an endless answer and cancels the rest, counting the event sent', async () => {
    let written = 0;
    let answerClosed = false;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk)) written += chunk.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        res.on('close', () => (answerClosed = true));
        pump();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    // A timeout far away: before the fix the body was read until it, gigabytes later.
    const { s } = sender(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, { timeoutMs: 120_000 });
    s.offer(event('a'));
    await waitUntil(() => s.stats.sent === 1 && answerClosed, 15_000, 'the event sent and the endless answer cancelled');
    expect(s.stats.retries).toBe(0);
    // What the endpoint got out is what the socket buffers held, not what it could send.
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });
});
