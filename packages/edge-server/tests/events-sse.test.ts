import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../src/camera/event-bus.js';
import { createEventRoutes, eventSnapshotId } from '../src/events/events-route.js';
import { motion, serveRoutes } from './support/events.js';
import { waitUntil } from './support/wait.js';

const JPEG = Buffer.from([0xff, 0xd8, 0x01, 0xff, 0xd9]);
const servers: Server[] = [];
const aborts: AbortController[] = [];

afterEach(() => {
  for (const a of aborts.splice(0)) a.abort();
  for (const s of servers.splice(0)) s.closeAllConnections(), s.close();
});

async function start(bus: EventBus, heartbeatMs = 60_000): Promise<string> {
  const routes = createEventRoutes(bus, { heartbeatMs });
  const { server, url } = await serveRoutes({ '/events': routes.events, '/events/recent': routes.recent }, (p) => (eventSnapshotId(p) !== undefined ? routes.snapshot : undefined));
  servers.push(server);
  return url;
}

/** Reads an SSE response into its text as it arrives. */
async function follow(url: string, headers: Record<string, string> = {}): Promise<{ text: () => string; res: Response }> {
  const abort = new AbortController();
  aborts.push(abort);
  const res = await fetch(url, { headers, signal: abort.signal });
  let text = '';
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
    } catch {
      // aborted
    }
  })();
  return { text: () => text, res };
}

describe('GET /events', () => {
  it('streams each event as an SSE message with its id, phase and JSON', async () => {
    const bus = new EventBus();
    const url = await start(bus);
    const s = await follow(`${url}/events`);
    expect(s.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await waitUntil(() => s.text().includes('edgecam events'), 10_000, 'the stream to open');
    bus.publish(motion('front-1', 'start', { snapshot: { seq: 1, captureTimeUs: 1, jpeg: JPEG } }));
    await waitUntil(() => s.text().includes('event: start'), 10_000, 'the start event');
    expect(s.text()).toContain(
      'id: 1\nevent: start\ndata: {"id":"front-1","camera":"front","type":"motion","phase":"start","startedAt":1733070000000,"score":0.25,"snapshot":"/events/front-1/snapshot.jpg"}\n\n',
    );
  });

  it('sends only the camera asked for with ?camera=', async () => {
    const bus = new EventBus();
    const url = await start(bus);
    const s = await follow(`${url}/events?camera=door`);
    await waitUntil(() => s.text().includes('edgecam events of door'), 10_000, 'the stream to open');
    bus.publish(motion('front-1', 'start'));
    bus.publish(motion('door-1', 'start', { camera: 'door' }));
    await waitUntil(() => s.text().includes('door-1'), 10_000, 'the door event');
    expect(s.text()).not.toContain('front-1');
  });

  it('resumes after Last-Event-ID from the backlog', async () => {
    const bus = new EventBus();
    const url = await start(bus);
    bus.publish(motion('a', 'start'));
    bus.publish(motion('a', 'end'));
    bus.publish(motion('b', 'start'));
    const s = await follow(`${url}/events`, { 'Last-Event-ID': '1' });
    await waitUntil(() => s.text().includes('id: 3'), 10_000, 'the missed events');
    expect(s.text()).not.toContain('id: 1\n');
    expect(s.text().indexOf('id: 2\n')).toBeLessThan(s.text().indexOf('id: 3\n'));
  });

  it('sends heartbeat comments while nothing happens', async () => {
    const url = await start(new EventBus(), 50);
    const s = await follow(`${url}/events`);
    await waitUntil(() => s.text().includes(': heartbeat\n\n'), 10_000, 'a heartbeat');
  });

  it('serves a recent event snapshot, and 404 for one it does not have', async () => {
    const bus = new EventBus();
    const url = await start(bus);
    bus.publish(motion('front 1', 'start', { snapshot: { seq: 1, captureTimeUs: 1, jpeg: JPEG } }));
    const res = await fetch(`${url}/events/front%201/snapshot.jpg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(JPEG);
    const missing = await fetch(`${url}/events/nope/snapshot.jpg`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});

describe('GET /events/recent', () => {
  it('lists each remembered event once, in its latest phase, oldest first, of one camera with ?camera=', async () => {
    const bus = new EventBus({ backlog: 4 });
    const url = await start(bus);
    bus.publish(motion('front-1', 'start', { snapshot: { seq: 1, captureTimeUs: 1, jpeg: JPEG } }));
    bus.publish(motion('front-1', 'end'));
    bus.publish(motion('door-1', 'start', { camera: 'door' }));
    bus.publish(motion('front-2', 'start', { startedAt: 1_733_070_060_000 }));
    const all = (await (await fetch(`${url}/events/recent`)).json()) as { events: Array<Record<string, unknown>> };
    expect(all.events.map((e) => [e.id, e.phase])).toEqual([['front-1', 'end'], ['door-1', 'start'], ['front-2', 'start']]);
    expect(all.events[0]).toMatchObject({ startedAt: 1_733_070_000_000, endedAt: 1_733_070_005_000, snapshot: '/events/front-1/snapshot.jpg' });
    const front = (await (await fetch(`${url}/events/recent?camera=front`)).json()) as { events: Array<{ id: string }> };
    expect(front.events.map((e) => e.id)).toEqual(['front-1', 'front-2']);
    // Bounded by the bus's backlog: older events fall out of the list.
    bus.publish(motion('front-3', 'start'));
    bus.publish(motion('front-4', 'start'));
    const later = (await (await fetch(`${url}/events/recent?camera=front`)).json()) as { events: Array<{ id: string }> };
    expect(later.events.map((e) => e.id)).toEqual(['front-2', 'front-3', 'front-4']);
  });
});
