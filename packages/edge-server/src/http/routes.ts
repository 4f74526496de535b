// The HTTP endpoints, one function each, and the table that maps a path to its function. Each
// takes the request context instead of closing over the server, so it reads on its own.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { choosePartLayout, MULTIPART_CONTENT_TYPE, type CapturedFrame } from '@edgecam/protocol';
import { describeSystemError } from '@edgecam/runtime';
import { formatPeerAddress } from '../log/peer-address.js';
import { parseFpsParam } from './frame-pacer.js';
import { readBody } from './read-body.js';
import { renderIndexPage } from './index-page.js';
import type { Route } from './route.js';
import { MjpegViewer } from './mjpeg-viewer.js';
import { NO_SIGNAL_HEADER, NO_SIGNAL_JPEG } from './no-signal.js';
import { BASE_HEADERS, NO_STORE, sendBody, sendError, sendJson } from './responses.js';
import { SETTINGS_CHANGE_SCHEMA } from '../camera/camera-settings.js';
import type { HttpCamera, HttpContext } from './http-context.js';
import { FPS_RANGE, QUALITY_RANGE, SIZE_RANGE, rangeText } from '../config/capture-limits.js';
import { sourceHealth } from './source-health.js';

export type { HttpCamera, HttpCameras, HttpContext } from './http-context.js';

/** One endpoint; the method is already known to be one the route takes. */
export type RouteHandler = (ctx: HttpContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void | Promise<void>;

/** Rate limiting skips it: a stream is one long request, limited by --max-clients and --max-per-address instead. */
export const STREAM_PATH = '/stream.mjpg';
/** Under /cams/NAME/: a recording replayed as MJPEG, a long request like the stream. */
export const REPLAY_PATH = '/replay.mjpg';
const RETRY_AFTER_SECONDS = 5;

/** GET /: the viewer page. */
function serveIndex(ctx: HttpContext, _req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  // A page opened as /?token=… passes the token on to the stream, snapshot and status URLs.
  const token = ctx.access?.required ? query.get('token') : null;
  const page = token ? renderIndexPage(ctx.serverName, ctx.version, token, ctx.pageParts) : ctx.indexPage;
  sendBody(res, 200, 'text/html; charset=utf-8', page, {
    'Content-Security-Policy': ctx.indexCsp,
    'Referrer-Policy': 'no-referrer',
  });
}

/** GET /stream.mjpg: the live MJPEG stream; `?fps=N` thins it, `?advance_headers=0|1` picks the part layout. */
function serveStream(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  const fps = parseFpsParam(query.get('fps'));
  if ('error' in fps) return sendError(res, 400, 'BAD_REQUEST', fps.error);
  if (req.method === 'HEAD') {
    // Tells players what they would get without starting the capture (or taking a slot).
    res.writeHead(200, { ...BASE_HEADERS, ...NO_STORE, 'Content-Type': MULTIPART_CONTENT_TYPE });
    res.end();
    return;
  }
  const giveBack = ctx.streams.open('mjpeg', req, res, ctx.log);
  if (!giveBack) return;
  const viewer = new MjpegViewer(res, {
    hub: ctx.hub,
    camera: ctx.camera.name,
    registry: ctx.registry,
    logger: ctx.log,
    address: formatPeerAddress(req.socket),
    layout: choosePartLayout(query.get('advance_headers'), req.headers['user-agent']),
    maxFps: fps.fps,
    stallTimeoutMs: ctx.stallTimeoutMs,
    onClose: (v) => {
      ctx.viewers.delete(v);
      giveBack();
    },
  });
  ctx.viewers.add(viewer);
  viewer.start();
}

/** GET /snapshot.jpg: the newest frame, or the "no signal" picture while the camera is lost. */
async function serveSnapshot(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { hub } = ctx;
  const client = ctx.registry.register({ protocol: 'http', address: formatPeerAddress(req.socket), camera: ctx.camera.name });
  try {
    client.setMode('single');
    let frame: CapturedFrame | undefined;
    // While the camera is lost (or when it fails while we wait) the answer is the "no signal"
    // picture: an <img> or a home-automation poller shows why instead of a broken image.
    if (!hub.info().noSignal) {
      try {
        frame = await hub.snapshot(ctx.snapshotTimeoutMs);
      } catch (err) {
        if (!hub.info().noSignal) {
          ctx.log.warn({ err: describeSystemError(err) }, 'snapshot failed: source unavailable');
          sendError(res, 503, 'SOURCE_UNAVAILABLE', snapshotFailure(err, ctx.snapshotTimeoutMs), {
            'Retry-After': String(RETRY_AFTER_SECONDS),
          });
          return;
        }
      }
    }
    if (res.destroyed) return;
    if (!frame) {
      sendBody(res, 200, 'image/jpeg', NO_SIGNAL_JPEG, {
        'Content-Disposition': 'inline; filename="no-signal.jpg"',
        [NO_SIGNAL_HEADER]: '1',
      });
      return;
    }
    sendBody(res, 200, 'image/jpeg', frame.jpeg, {
      'Content-Disposition': 'inline; filename="snapshot.jpg"',
      'X-Frame-Seq': String(frame.seq),
      'X-Capture-Time-Us': String(frame.captureTimeUs),
    });
    if (req.method !== 'HEAD') client.sent(frame.jpeg.length, frame.captureTimeUs);
  } finally {
    client.close();
  }
}

/** GET /status: the source and every client, as JSON. */
function serveStatus(ctx: HttpContext, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, {
    server: ctx.serverName,
    version: ctx.version,
    uptime: Math.round(performance.now() - ctx.startedAt) / 1000,
    source: ctx.hub.info(),
    cameras: ctx.cameras.list().map((c) => cameraStatus(ctx, c)),
    clients: ctx.registry.list(),
  });
}

/** One camera as /status lists it. */
function cameraStatus(ctx: HttpContext, c: HttpCamera) {
  return {
    name: c.name,
    default: c === ctx.cameras.default,
    source: c.hub.info(),
    settings: c.settings?.() ?? null,
    /** The ceilings of PUT settings, which the page's form shows as its max. */
    limits: c.limits?.() ?? null,
    /** The newest settings change and the gap in frames it caused. */
    lastChange: c.lastChange?.() ?? null,
    ...ctx.featureStatus?.(c.name),
  };
}

/** GET /cams/NAME/status: one camera and its clients. */
function serveCameraStatus(ctx: HttpContext, _req: IncomingMessage, res: ServerResponse): void {
  const name = ctx.camera.name;
  sendJson(res, 200, {
    server: ctx.serverName,
    version: ctx.version,
    camera: cameraStatus(ctx, ctx.camera),
    clients: ctx.registry.list().filter((c) => c.camera === name),
  });
}

// A settings body is a few numbers; anything longer is not one.
const MAX_SETTINGS_BYTES = 1024;

/** PUT /settings, /cams/NAME/settings: JSON {width?, height?, fps?, quality?}; the capture restarts with them, viewers stay. */
async function serveSettings(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const camera = ctx.camera;
  const read = await readBody(req, MAX_SETTINGS_BYTES);
  if (!read.ok && read.reason === 'aborted') return void res.destroy();
  if (!read.ok) return sendError(res, 413, 'BAD_REQUEST', `the settings must be a JSON object of at most ${MAX_SETTINGS_BYTES} bytes`, { Connection: 'close' });
  const text = read.body.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return sendError(res, 400, 'BAD_REQUEST', 'the body is not JSON: send an object such as {"width": 640, "height": 480, "fps": 15, "quality": 80}');
  }
  const parsed = SETTINGS_CHANGE_SCHEMA.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path[0];
    const what = issue?.code === 'unrecognized_keys' ? 'is no setting' : 'is out of range';
    return sendError(
      res,
      400,
      'BAD_REQUEST',
      key === undefined
        ? `send a JSON object with any of width and height (${rangeText(SIZE_RANGE)}), fps (${rangeText(FPS_RANGE)}) and quality (${rangeText(QUALITY_RANGE)})`
        : `${String(key).slice(0, 32)} ${what}: the settings are width and height (integers ${rangeText(SIZE_RANGE)}), fps (${rangeText(FPS_RANGE)}) and quality (integer ${rangeText(QUALITY_RANGE)})`,
    );
  }
  if (!camera.applySettings) return sendError(res, 409, 'SETTINGS_FIXED', `camera ${camera.name} cannot change its settings`);
  try {
    const settings = camera.applySettings(parsed.data);
    ctx.log.info({ camera: camera.name, settings }, 'settings changed over HTTP');
    sendJson(res, 200, { camera: camera.name, settings });
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
    if (code === 'SETTINGS_FIXED') return sendError(res, 409, 'SETTINGS_FIXED', (err as Error).message);
    if (code === 'SETTINGS_ABOVE_LIMIT') return sendError(res, 400, 'BAD_REQUEST', (err as Error).message);
    throw err;
  }
}

/** GET /metrics: Prometheus text. */
async function serveMetrics(ctx: HttpContext, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const text = await ctx.metrics.text();
  sendBody(res, 200, ctx.metrics.contentType, text);
}

/** GET /healthz: 200 while frames arrive, 503 with the reason otherwise. */
function serveHealthz(ctx: HttpContext, _req: IncomingMessage, res: ServerResponse): void {
  const health = sourceHealth(ctx.hub.info(), Date.now());
  sendJson(res, health.healthy ? 200 : 503, { ok: health.healthy, ...health });
}

/** The core's endpoints: at the root, and (`both`, `camera`) under /cams/NAME/ for that camera. */
export const CORE_ROUTES: readonly Route[] = [
  { path: '/', methods: ['GET'], handle: serveIndex },
  { path: STREAM_PATH, under: 'both', methods: ['GET'], long: true, handle: serveStream },
  { path: '/snapshot.jpg', under: 'both', methods: ['GET'], handle: serveSnapshot },
  { path: '/status', methods: ['GET'], handle: serveStatus },
  { path: '/status', under: 'camera', methods: ['GET'], handle: serveCameraStatus },
  { path: '/metrics', methods: ['GET'], handle: serveMetrics },
  { path: '/healthz', methods: ['GET'], open: true, handle: serveHealthz },
  { path: '/settings', under: 'both', methods: ['PUT'], handle: serveSettings },
];

/** µStreamer's paths, which Home Assistant setups and scripts use. */
const PATH_ALIASES = new Map([
  ['/stream', STREAM_PATH],
  ['/snapshot', '/snapshot.jpg'],
]);

/** mjpg-streamer's `/?action=…`, which OctoPrint and Mainsail/Fluidd (crowsnest) use. */
const ACTIONS = new Map([
  ['stream', STREAM_PATH],
  ['snapshot', '/snapshot.jpg'],
]);

/**
 * The ROUTES key a request names: our own paths as they are, the other streamers' URLs as ours,
 * so they pass the same admission (token, rate limit) as the endpoints they stand for. `/`
 * without `action` stays the page; an unknown action names no route. A stream alias without
 * `advance_headers` gets those streamers' layout, Content-Length in every part, whatever the
 * User-Agent: their clients parse parts by it (Mainsail's reader does, from a browser).
 */
export function resolveAlias(path: string, query: URLSearchParams): string {
  let target = PATH_ALIASES.get(path);
  if (path === '/') {
    const action = query.get('action');
    if (action === null) return path;
    target = ACTIONS.get(action) ?? `/?action=${action}`;
  }
  if (target === undefined) return path;
  if (target === STREAM_PATH && !query.has('advance_headers')) query.set('advance_headers', '0');
  return target;
}

/** Our own sentence for the client: the hub's coded errors are safe to repeat, anything else is not. */
function snapshotFailure(err: unknown, timeoutMs: number): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  switch (code) {
    case 'SOURCE_UNAVAILABLE':
      return `no frame from the source within ${timeoutMs} ms`;
    case 'SOURCE_ENDED':
      return 'the source has ended and delivers no more frames';
    case 'HUB_CLOSED':
      return 'the server is shutting down';
    default:
      return 'the source is unavailable';
  }
}
