// GET /events: camera events as server-sent events, GET /events/recent: the recent ones as JSON
// (the recordings page marks them on its timeline), and GET /events/ID/snapshot.jpg: the picture
// of a recent event. A stream resumes after Last-Event-ID from the bus's small backlog; a client
// that does not read is closed (its browser reconnects and resumes) rather than buffered for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Subscription } from 'rxjs';
import type { BusEvent, EventBus } from '../camera/event-bus.js';
import { BASE_HEADERS, NO_STORE, sendBody, sendError, sendJson } from '../http/responses.js';
import type { Route } from '../http/route.js';
import type { HttpContext, RouteHandler } from '../http/routes.js';

/** The SSE endpoint's path. */
export const EVENTS_PATH = '/events';
/** The recent events as JSON, newest state of each: what the bus remembers (its backlog), no more. */
export const RECENT_EVENTS_PATH = '/events/recent';
const SNAPSHOT_PATH = /^\/events\/([^/]+)\/snapshot\.jpg$/;
const SSE_HEADERS = {
  ...BASE_HEADERS,
  ...NO_STORE,
  'Content-Type': 'text/event-stream; charset=utf-8',
  Connection: 'keep-alive',
  // nginx buffers responses by default, which would hold events back.
  'X-Accel-Buffering': 'no',
};

export interface EventRouteOptions {
  /** A comment line this often keeps proxies from closing an idle stream. Default 15 s. */
  heartbeatMs?: number;
  /** Bytes a stream may have unsent before it is closed. Default 256 KiB. */
  maxBufferedBytes?: number;
}

/** The event id a path names when it is `/events/ID/snapshot.jpg`, else undefined. */
export function eventSnapshotId(path: string): string | undefined {
  const m = SNAPSHOT_PATH.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/** One SSE message: `id`, `event` (the phase) and the JSON on one `data` line. */
function sseMessage(bus: EventBus, b: BusEvent): string {
  return `id: ${b.seq}\nevent: ${b.event.phase}\ndata: ${JSON.stringify(bus.json(b))}\n\n`;
}

/** The event routes over one bus: `routes` for the router, and each handler alone (tests serve them on a plain server). */
export function createEventRoutes(
  bus: EventBus,
  opts: EventRouteOptions = {},
): { routes: readonly Route[]; events: RouteHandler; recent: RouteHandler; snapshot: RouteHandler; close(): void } {
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxBuffered = opts.maxBufferedBytes ?? 256 * 1024;
  const open = new Set<ServerResponse>();

  const events: RouteHandler = (ctx: HttpContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => {
    const camera = query.get('camera');
    // HEAD opens no stream, so it takes no slot.
    if (req.method === 'HEAD') return void res.writeHead(200, SSE_HEADERS).end();
    const giveBack = ctx.streams.open('events', req, res, ctx.log);
    if (!giveBack) return;
    const lastId = req.headers['last-event-id'] ?? query.get('lastEventId');
    const after = typeof lastId === 'string' && /^\d+$/.test(lastId) ? Number(lastId) : undefined;
    res.writeHead(200, SSE_HEADERS);
    open.add(res);
    const send = (b: BusEvent): void => {
      if (camera !== null && b.event.camera !== camera) return;
      if (res.writableLength > maxBuffered) {
        ctx.log.warn({ buffered: res.writableLength }, 'event stream client reads nothing; closing');
        res.destroy();
        return;
      }
      res.write(sseMessage(bus, b));
    };
    // The retry hint first, then what the client missed, then live events.
    res.write(`retry: 2000\n: edgecam events${camera !== null ? ` of ${camera}` : ''}\n\n`);
    if (after !== undefined) for (const b of bus.since(after)) send(b);
    const sub: Subscription = bus.events$.subscribe({ next: send, complete: () => res.end() });
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    heartbeat.unref();
    res.once('close', () => {
      giveBack();
      open.delete(res);
      clearInterval(heartbeat);
      sub.unsubscribe();
    });
  };

  // Each event once, in its latest phase (an ended event has its end), oldest first; ?camera= keeps one camera's.
  const recent: RouteHandler = (_ctx, _req, res, query) => {
    const camera = query.get('camera');
    const latest = new Map<string, BusEvent>();
    for (const b of bus.since(0)) if (camera === null || b.event.camera === camera) latest.set(b.event.id, b);
    sendJson(res, 200, { events: [...latest.values()].map((b) => bus.json(b)) });
  };

  const snapshot: RouteHandler = (_ctx, req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const id = eventSnapshotId(path);
    const frame = id === undefined ? undefined : bus.snapshot(id);
    if (!frame) return sendError(res, 404, 'NOT_FOUND', 'no snapshot of that event; the server keeps those of recent events only');
    sendBody(res, 200, 'image/jpeg', frame.jpeg, {
      'Content-Disposition': 'inline; filename="snapshot.jpg"',
      'X-Capture-Time-Us': String(frame.captureTimeUs),
    });
  };

  return {
    routes: [
      { path: EVENTS_PATH, methods: ['GET'], long: true, handle: events },
      { path: RECENT_EVENTS_PATH, methods: ['GET'], handle: recent },
      { path: SNAPSHOT_PATH, methods: ['GET'], handle: snapshot },
    ],
    events,
    recent,
    snapshot,
    close: () => {
      for (const res of open) res.end();
    },
  };
}
