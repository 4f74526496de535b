// A camera name that comes in over HTTP (/cams/NAME/… and ?camera=) is refused with 400 unless it
// is one a camera could have (the config's CAMERA_NAME_PATTERN): a name with CR/LF would otherwise
// write its own lines into an event stream.
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../src/camera/event-bus.js';
import { createEventRoutes } from '../src/events/events-route.js';
import { recordingsRoutes } from '../src/recording/recordings-routes.js';
import { FakeHub } from './http-fixtures/fake-hub.js';
import { FixedMetrics, RecordingRegistry } from './http-fixtures/fake-registry.js';
import { startHttpServer, testLogger, type RunningHttpServer } from './http-fixtures/harness.js';

let running: RunningHttpServer | undefined;

afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(): Promise<string> {
  running = await startHttpServer({
    hub: new FakeHub(),
    registry: new RecordingRegistry(),
    metrics: new FixedMetrics(),
    routes: [...createEventRoutes(new EventBus()).routes, ...recordingsRoutes({ store: () => undefined, cameras: () => [], log: testLogger }).routes],
  });
  return running.url;
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe('camera names over HTTP', () => {
  it('refuses ?camera= with CR/LF on /events with 400 before any event line is written', async () => {
    const url = await start();
    const res = await fetch(`${url}/events?camera=${encodeURIComponent('front\r\nevent: start\r\ndata: {"forged":true}')}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const error = await errorOf(res);
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/is no camera name: those are 1 to 32 of a-z, 0-9, _ and -/);
    expect(error.message).not.toMatch(/[\r\n]/);
  });

  it.each([
    ['GET', '/cams/front%0a/snapshot.jpg'],
    ['GET', '/cams/Front/status'],
    ['GET', `/cams/${'a'.repeat(33)}/stream.mjpg`],
    ['GET', '/cams/%zz/replay.mjpg'],
    ['POST', '/cams/a%20b/whep'],
    ['PUT', '/cams/front%0d/settings'],
    ['GET', '/recordings?camera=front%0d%0a'],
    ['GET', '/events?camera=front&camera=x%0a'],
  ])('answers %s %s with 400', async (method, path) => {
    const url = await start();
    const res = await fetch(url + path, { method });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('BAD_REQUEST');
  });

  it('still answers a well-formed name of no camera with 404 UNKNOWN_CAMERA, and takes a good ?camera=', async () => {
    const url = await start();
    const unknown = await fetch(`${url}/cams/nope/status`);
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toEqual({ code: 'UNKNOWN_CAMERA', message: 'no camera "nope"; the cameras are: default' });
    const abort = new AbortController();
    const events = await fetch(`${url}/events?camera=front_2-b`, { signal: abort.signal });
    expect(events.status).toBe(200);
    abort.abort();
  });
});
