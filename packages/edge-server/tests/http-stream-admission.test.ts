// Every long-lived HTTP request holds a slot while it is open: replays, WebRTC viewers and event
// streams, like /stream.mjpg, at most --max-clients of each kind and --max-per-address of each
// kind per host. Over loopback, 127.0.0.1 and 127.0.0.2 are two hosts.
import { request, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../src/camera/event-bus.js';
import type { H264Hub } from '../src/h264/h264-hub.js';
import { createEventRoutes } from '../src/events/events-route.js';
import { H264Routes } from '../src/h264/h264-routes.js';
import { recordingsRoutes } from '../src/recording/recordings-routes.js';
import type { RecordingsStore, ReplayFrame } from '../src/recording/recordings-store.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { FixedMetrics, RecordingRegistry } from './http-fixtures/fake-registry.js';
import { startHttpServer, testLogger, type RunningHttpServer } from './http-fixtures/harness.js';

let running: RunningHttpServer | undefined;
const requests: ClientRequest[] = [];

afterEach(async () => {
  for (const r of requests.splice(0)) r.destroy();
  await running?.close();
  running = undefined;
});

/** A recording that never ends: one frame a second from wherever the replay starts. */
const endlessStore = {
  camera: 'front',
  async *frames(fromMs: number): AsyncGenerator<ReplayFrame> {
    for (let i = 0; ; i++) yield { jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xd9]), timeMs: fromMs + i * 1000, file: 'x.avi' };
  },
} as unknown as RecordingsStore;

async function start(limits: { maxClients?: number; maxPerAddress?: number }): Promise<RunningHttpServer> {
  const registry = new RecordingRegistry();
  running = await startHttpServer({
    hub: new FakeHub(),
    registry,
    metrics: new FixedMetrics(),
    ...limits,
    routes: [
      ...recordingsRoutes({ store: (n) => (n === 'front' ? endlessStore : undefined), cameras: () => ['front'], log: testLogger }).routes,
      ...createEventRoutes(new EventBus()).routes,
      // The offers here are refused or never finish, so the hub is never asked for anything.
      ...new H264Routes({ hubOf: (n) => (n === 'front' ? ({} as H264Hub) : undefined), registry, maxClients: 0, logger: testLogger }).routes,
    ],
  });
  return running;
}

type Kind = 'replay' | 'webrtc' | 'events';
const PATHS: Record<Kind, string> = { replay: '/cams/front/replay.mjpg', webrtc: '/cams/front/whep', events: '/events' };

function send(kind: Kind, from: string, body: 'whole' | 'unfinished'): { req: ClientRequest; head: Promise<IncomingMessage> } {
  const webrtc = kind === 'webrtc';
  const req = request({
    host: '127.0.0.1',
    port: running!.port,
    path: PATHS[kind],
    localAddress: from,
    agent: false,
    method: webrtc ? 'POST' : 'GET',
    headers: webrtc ? { 'Content-Type': 'application/sdp', 'Content-Length': body === 'whole' ? 5 : 1000 } : {},
  });
  requests.push(req);
  const head = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  if (webrtc) req.write('v=0\r\n');
  if (!webrtc || body === 'whole') req.end();
  return { req, head };
}

/** Opens a stream of `kind` that holds its slot; `close` ends it and resolves once the server has seen that. */
async function hold(kind: Kind, from: string): Promise<{ close(): Promise<void> }> {
  // An offer whose body has not all come yet holds its slot. The server takes the slot as it
  // handles the request, before this listener (added after the server's own) runs.
  const seen = once(running!.server, 'request') as Promise<[IncomingMessage, ServerResponse]>;
  const { req, head } = send(kind, from, kind === 'webrtc' ? 'unfinished' : 'whole');
  const [, res] = await seen;
  const closed = once(res, 'close');
  if (kind !== 'webrtc') expect((await head).statusCode).toBe(200);
  // The unfinished offer is never answered; destroying it fails its head, as it should.
  else head.catch(() => undefined);
  return {
    close: async () => {
      req.destroy();
      await closed;
    },
  };
}

/** A request that is answered at once: status and error code (a stream admitted stays open until the test ends). */
async function attempt(kind: Kind, from: string): Promise<{ status: number; code?: string; message?: string }> {
  const res = await send(kind, from, 'whole').head;
  if (res.statusCode === 200) return { status: 200 };
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const { error } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error: { code: string; message: string } };
  return { status: res.statusCode!, ...error };
}

// What an admitted request gets: a replay and an event stream open, a five-byte offer is no SDP.
const ADMITTED: Record<Kind, number> = { replay: 200, events: 200, webrtc: 400 };
const KINDS = [
  { kind: 'replay', name: 'replay' },
  { kind: 'webrtc', name: 'WebRTC offer' },
  { kind: 'events', name: 'event stream' },
] as const;

describe('--max-per-address on replays, WebRTC viewers and event streams', () => {
  it.each(KINDS)(
    'refuses a second $name from one host with 429 TOO_MANY_STREAMS, admits another host, and admits again once the first closes',
    async ({ kind }) => {
      await start({ maxPerAddress: 1 });
      const first = await hold(kind, '127.0.0.1');

      const refused = await attempt(kind, '127.0.0.1');
      expect(refused).toMatchObject({ status: 429, code: 'TOO_MANY_STREAMS' });
      expect(refused.message).toContain('--max-per-address');
      expect(refused.message).not.toContain('\n');
      expect((await attempt(kind, '127.0.0.2')).status).toBe(ADMITTED[kind]);

      await first.close();
      expect((await attempt(kind, '127.0.0.1')).status).toBe(ADMITTED[kind]);
    },
  );
});

describe('--max-clients on replays, WebRTC viewers and event streams', () => {
  it.each(KINDS)('refuses one $name over the limit with 503 TOO_MANY_CLIENTS, from any host', async ({ kind }) => {
    await start({ maxClients: 1 });
    await hold(kind, '127.0.0.1');
    const refused = await attempt(kind, '127.0.0.2');
    expect(refused).toMatchObject({ status: 503, code: 'TOO_MANY_CLIENTS' });
    expect(refused.message).toContain('--max-clients');
  });

  it('counts each kind apart: a host with its replay open still gets an event stream', async () => {
    await start({ maxClients: 1, maxPerAddress: 1 });
    await hold('replay', '127.0.0.1');
    expect((await attempt('events', '127.0.0.1')).status).toBe(200);
  });
});
