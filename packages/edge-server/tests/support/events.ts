// Helpers for the event tests: a hub fed by hand, camera events, and an HTTP server for one route.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Subject } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import type { CameraContext, CameraEvent, FrameHub, SourceInfo } from '../../src/contracts.js';
import type { HttpContext, RouteHandler as Route } from '../../src/http/routes.js';
import { StreamAdmission } from '../../src/http/stream-admission.js';

/** A FrameHub whose frames a test pushes. */
export function manualHub(): FrameHub & { push(f: CapturedFrame): void } {
  const frames = new Subject<CapturedFrame>();
  let latest: CapturedFrame | undefined;
  const info: SourceInfo = {
    kind: 'custom', spec: 'test', width: 16, height: 8, fpsConfigured: 10, fpsMeasured: 0, state: 'running',
    restarts: 0, framesCaptured: 0, lastFrameAt: null, lastError: null, noSignal: false,
  };
  return {
    frames$: frames.asObservable(),
    latest: () => latest,
    snapshot: async () => latest ?? Promise.reject(new Error('no frame')),
    info: () => info,
    push: (f) => {
      latest = f;
      frames.next(f);
    },
  };
}

export function cameraContext(name: string, hub: FrameHub = manualHub()): CameraContext {
  return { name, hub, logger: pino({ level: 'silent' }) };
}

/** A motion event; `snapshot` as given. */
export function motion(id: string, phase: CameraEvent['phase'], extra: Partial<CameraEvent> = {}): CameraEvent {
  return {
    id,
    camera: 'front',
    type: 'motion',
    phase,
    startedAt: 1_733_070_000_000,
    ...(phase === 'end' ? { endedAt: 1_733_070_005_000 } : {}),
    score: 0.25,
    ...extra,
  };
}

/** Serves a set of routes by path on 127.0.0.1; the rest is 404. */
export async function serveRoutes(routes: Record<string, Route>, fallback?: (path: string) => Route | undefined): Promise<{ server: Server; url: string }> {
  const ctx = { log: pino({ level: 'silent' }), streams: new StreamAdmission(0, 0) } as unknown as HttpContext;
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const route = routes[u.pathname] ?? fallback?.(u.pathname);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    void route(ctx, req, res, u.searchParams);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
