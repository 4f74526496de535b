import { afterEach, describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { pino } from 'pino';
import { V2_MAGIC, encodeHello } from '@edgecam/protocol';
import type { CameraEvent } from '../src/contracts.js';
import { createClientRegistry } from '../src/client-registry.js';
import { EdgeTcpServer } from '../src/tcp/tcp-server.js';
import { V2Client, openSocket } from './support/clients.js';
import { manualHub, motion } from './support/events.js';

const servers: EdgeTcpServer[] = [];
const clients: V2Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

// The default camera, and `front` for the client that names one.
const oneCamera = (() => {
  const cameras = new Map(['default', 'front'].map((name) => [name, { name, hub: manualHub() }]));
  return { pick: (name: string | undefined) => cameras.get(name ?? 'default'), names: () => [...cameras.keys()] };
})();

async function start(events$: Subject<CameraEvent>, asked: (string | undefined)[] = []): Promise<number> {
  const server = new EdgeTcpServer({
    cameras: oneCamera,
    registry: createClientRegistry(),
    logger: pino({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    maxClients: 0,
    helloTimeoutMs: 5000,
    welcome: () => ({ server: 'edgecam-server', version: 'test', width: 16, height: 8, fps: 10, authRequired: false }),
    events: (camera) => {
      asked.push(camera);
      return events$.asObservable();
    },
  });
  servers.push(server);
  return server.listen();
}

async function connect(port: number, hello: Parameters<typeof encodeHello>[0]): Promise<V2Client> {
  const c = await V2Client.connect(port, { hello: false });
  clients.push(c);
  c.write(encodeHello(hello));
  await c.waitFor('welcome');
  return c;
}

describe('v2 EVENT', () => {
  it('goes to a client whose HELLO asks for events, for the camera it named', async () => {
    const events$ = new Subject<CameraEvent>();
    const asked: (string | undefined)[] = [];
    const port = await start(events$, asked);
    const c = await connect(port, { client: 'vitest', camera: 'front', events: true });
    expect(asked).toEqual(['front']);
    events$.next(motion('front-1', 'start', { snapshot: { seq: 1, captureTimeUs: 1, jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) } }));
    events$.next(motion('front-1', 'end'));
    const got = await c.waitFor('event', 2);
    expect(got.map((m) => m.event)).toEqual([
      { id: 'front-1', camera: 'front', type: 'motion', phase: 'start', startedAt: 1_733_070_000_000, score: 0.25 },
      { id: 'front-1', camera: 'front', type: 'motion', phase: 'end', startedAt: 1_733_070_000_000, endedAt: 1_733_070_005_000, score: 0.25 },
    ]);
  });

  it('never goes to a client that did not ask', async () => {
    const events$ = new Subject<CameraEvent>();
    const port = await start(events$);
    const quiet = await connect(port, { client: 'old' });
    const asking = await connect(port, { events: true });
    events$.next(motion('front-1', 'start'));
    await asking.waitFor('event');
    // A PONG comes after anything written before it on the same socket.
    quiet.ping(Buffer.alloc(8));
    await quiet.waitFor('pong');
    expect(quiet.of('event')).toEqual([]);
  });

  it('drops the oldest events for a client that reads nothing, and keeps its connection bounded', async () => {
    const events$ = new Subject<CameraEvent>();
    const port = await start(events$);
    const socket = await openSocket(port);
    socket.pause();
    socket.write(V2_MAGIC);
    socket.write(encodeHello({ events: true }));
    const big = 'x'.repeat(3000);
    // Far more than the socket buffers take: the server must queue a bounded few, not all.
    for (let i = 0; i < 5000; i++) events$.next(motion(`${big}-${i}`, 'update'));
    const probe = await connect(port, { events: true });
    events$.next(motion('last', 'end'));
    const got = await probe.waitFor('event', 1);
    expect(got.at(-1)!.event.id).toBe('last');
    socket.destroy();
  });
});
