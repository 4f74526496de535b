// The HTTP endpoints, one function each, and the table that maps a path to its function. Each
// takes the request context instead of closing over the server, so it reads on its own.
import type { PerHostCount } from '../access/per-host-count.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { choosePartLayout, describeSystemError, MULTIPART_CONTENT_TYPE, type CapturedFrame } from '@edgecam/protocol';
import type { AccessControl } from '../access/access-control.js';
import { peerKey } from '../access/address-key.js';
import type { HostRateLimiter } from '../access/rate-limiter.js';
import type { LogLimiter } from '../log-limiter.js';
import type { ClientRegistry, FrameHub, ServerMetrics } from '../contracts.js';
import { formatPeerAddress } from '../peer-address.js';
import { parseFpsParam } from './frame-pacer.js';
import { INDEX_PAGE_CSP, renderIndexPage } from './index-page.js';
import { MjpegViewer } from './mjpeg-viewer.js';
import { NO_SIGNAL_HEADER, NO_SIGNAL_JPEG } from './no-signal.js';
import { BASE_HEADERS, NO_STORE, sendBody, sendError, sendJson } from './responses.js';
import { sourceHealth } from './source-health.js';

/** What every endpoint may use: the shared capture, the bookkeeping and the server's settings. */
export interface HttpContext {
  readonly hub: FrameHub;
  readonly registry: ClientRegistry;
  readonly metrics: ServerMetrics;
  /** Within a request: bounded per peer (LogLimiter), since a peer decides how often it is used. */
  readonly log: Logger;
  readonly logLimiter: LogLimiter;
  readonly serverName: string;
  readonly version: string;
  /** performance.now() when the server was created, for /status uptime. */
  readonly startedAt: number;
  /** The page without a token, rendered once. */
  readonly indexPage: string;
  readonly snapshotTimeoutMs: number;
  readonly stallTimeoutMs: number;
  /** Stream viewers at most; 0: no limit. */
  readonly maxClients: number;
  /** Open streams per host (peerKey); 0: no limit. */
  readonly access: AccessControl | undefined;
  readonly rateLimiter: HostRateLimiter | null;
  /** The open streams, so that closing the server can end them. */
  readonly viewers: Set<MjpegViewer>;
  /** Open streams by peerKey; a host without one has no entry. */
  /** Open streams per host, for --max-per-address. */
  readonly streamsPerHost: PerHostCount;
}

/** One endpoint; the method is already known to be GET or HEAD. */
export type Route = (ctx: HttpContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void | Promise<void>;

/** Rate limiting skips it: a stream is one long request, limited by --max-clients and --max-per-address instead. */
export const STREAM_PATH = '/stream.mjpg';
const RETRY_AFTER_SECONDS = 5;

/** GET /: the viewer page. */
function serveIndex(ctx: HttpContext, _req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  // A page opened as /?token=… passes the token on to the stream, snapshot and status URLs.
  const token = ctx.access?.required ? query.get('token') : null;
  const page = token ? renderIndexPage(ctx.serverName, ctx.version, token) : ctx.indexPage;
  sendBody(res, 200, 'text/html; charset=utf-8', page, {
    'Content-Security-Policy': INDEX_PAGE_CSP,
    'Referrer-Policy': 'no-referrer',
  });
}

/** GET /stream.mjpg: the live MJPEG stream; `?fps=N` thins it, `?advance_headers=0|1` picks the part layout. */
function serveStream(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  const fps = parseFpsParam(query.get('fps'));
  if ('error' in fps) return sendError(res, 400, 'BAD_REQUEST', fps.error);
  const { maxClients } = ctx;
  if (maxClients > 0 && ctx.viewers.size >= maxClients && req.method !== 'HEAD') {
    ctx.log.warn({ peer: formatPeerAddress(req.socket), maxClients }, 'too many stream viewers; refusing');
    return sendError(res, 503, 'TOO_MANY_CLIENTS', `this server takes at most ${maxClients} stream viewers`, {
      'Retry-After': String(RETRY_AFTER_SECONDS),
    });
  }
  // Per host, like the TCP side: on a SLAAC LAN every host shares one /64.
  const host = peerKey(req.socket.remoteAddress);
  const maxPerAddress = ctx.streamsPerHost.max;
  if (ctx.streamsPerHost.full(host) && req.method !== 'HEAD') {
    ctx.log.warn({ peer: formatPeerAddress(req.socket), maxPerAddress }, 'too many streams from one address; refusing (--max-per-address)');
    return sendError(res, 429, 'TOO_MANY_STREAMS', `your address has ${maxPerAddress} streams open, the most this server allows (--max-per-address)`, {
      'Retry-After': String(RETRY_AFTER_SECONDS),
    });
  }
  if (req.method === 'HEAD') {
    // Tells players what they would get without starting the capture.
    res.writeHead(200, { ...BASE_HEADERS, ...NO_STORE, 'Content-Type': MULTIPART_CONTENT_TYPE });
    res.end();
    return;
  }
  const giveBack = ctx.streamsPerHost.take(host);
  const viewer = new MjpegViewer(res, {
    hub: ctx.hub,
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
  const client = ctx.registry.register({ protocol: 'http', address: formatPeerAddress(req.socket) });
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
    clients: ctx.registry.list(),
  });
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

/** Path to endpoint; anything else is 404. */
export const ROUTES: Readonly<Record<string, Route>> = {
  '/': serveIndex,
  [STREAM_PATH]: serveStream,
  '/snapshot.jpg': serveSnapshot,
  '/status': serveStatus,
  '/metrics': serveMetrics,
  '/healthz': serveHealthz,
};

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
