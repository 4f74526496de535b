// Limits that protect a small board out of the box: clients per protocol (--max-clients 32) and
// TCP connections per address (--max-per-address 8), printed in the banner with how to lift them.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bannerLines } from '../src/cli/banner.js';
import { DEFAULT_CONFIG } from '../src/config/config.js';
import { LegacyClient, openSocket } from './support/clients.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

let server: TestServer | null = null;
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const s of sockets) s.destroy();
  await server?.close();
  server = null;
});

describe('default limits', () => {
  it('are 32 clients per protocol and 8 TCP connections per address', () => {
    expect(DEFAULT_CONFIG).toMatchObject({ maxClients: 32, maxPerAddress: 8 });
  });

  it('are printed in the banner with the flags that lift them', () => {
    const base = { host: '127.0.0.1', tcpPort: 6810, httpPort: 8080, source: 'testsrc', ffmpeg: null, version: '1.0.0' };
    const text = bannerLines({ ...base, limits: { maxClients: 32, maxPerAddress: 8 } }).join('\n');
    expect(text).toContain('Limits: 32 clients per protocol (TCP legacy, TCP v2) and per kind of HTTP stream (MJPEG, replay, WebRTC, events), 8 TCP connections and 8 HTTP streams of each kind per host');
    expect(text).toContain('--max-clients and --max-per-address (0: no limit)');
    expect(bannerLines({ ...base, limits: { maxClients: 0, maxPerAddress: 0 } }).join('\n')).toContain('Limits: no client limit, no per-address limit');
  });
});

describe('--max-per-address', () => {
  it('closes a connection over the limit at once, without a byte, and admits one again when another leaves', async () => {
    server = await startTestServer({ maxPerAddress: 3 });
    const clients = await Promise.all([0, 1, 2].map(() => LegacyClient.connect(server!.tcpPort)));
    for (const c of clients) c.write('3');
    await Promise.all(clients.map((c) => c.waitForFrames(2)));

    const fourth = await openSocket(server.tcpPort, sockets);
    let received = 0;
    let closed = false;
    fourth.on('data', (d: Buffer) => (received += d.length));
    fourth.on('close', () => (closed = true));
    fourth.write('3');
    await waitUntil(() => closed, 5000, 'the fourth connection to be closed');
    expect(received).toBe(0);
    expect(server.log.lines.some((l) => l.msg === 'too many connections from one address; refusing (--max-per-address)')).toBe(true);

    clients[0]!.close();
    await waitUntil(() => server!.registry.count('legacy') === 2, 5000, 'the first client to leave');
    const next = await LegacyClient.connect(server.tcpPort);
    next.write('3');
    await next.waitForFrames(2);
    for (const c of [...clients, next]) c.close();
  });
});
