// The HTTP side of edgecam-server, on plain node:http: the live MJPEG stream, snapshots, a
// viewer page, status, Prometheus metrics and a health check, all over the one shared capture.
import { formatPeerAddress } from '../peer-address.js';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { choosePartLayout, MULTIPART_CONTENT_TYPE, type CapturedFrame } from '@edgecam/protocol';
import type { AccessControl, AccessVerdict } from '../access/access-control.js';
import { addressKey } from '../access/address-key.js';
import type { RateLimiter } from '../access/rate-limiter.js';
import { AUTH_CHALLENGE, presentedTokens, redactUrl } from './http-credentials.js';
import type { ClientRegistry, FrameHub, ServerMetrics } from '../contracts.js';
import { parseFpsParam } from './frame-pacer.js';
import { INDEX_PAGE_CSP, renderIndexPage } from './index-page.js';
import { MjpegViewer } from './mjpeg-viewer.js';
import { NO_SIGNAL_HEADER, NO_SIGNAL_JPEG } from './no-signal.js';
import { BASE_HEADERS, NO_STORE, sendBody, sendError, sendJson } from './responses.js';
import { sourceHealth } from './source-health.js';

export interface HttpServerDeps {
  hub: FrameHub;
  registry: ClientRegistry;
  metrics: ServerMetrics;
  logger: Logger;
  /** Shown on the page and in /status. Default `edgecam-server`. */
  serverName?: string;
  version?: string;
  /** How long GET /snapshot.jpg waits for a frame when the capture must start first. Default 5000. */
  snapshotTimeoutMs?: number;
  /** A stream viewer whose socket has not drained for this long is disconnected. Default 30000. */
  stallTimeoutMs?: number;
  /** Overrides HTTP_LIMITS (tests use short timeouts). */
  limits?: Partial<HttpLimits>;
  /** Checks the token (Bearer, Basic or ?token=) on every endpoint but /healthz. */
  access?: AccessControl;
  /** Requests per address for every endpoint but the stream; null or absent: no limit. */
  rateLimiter?: RateLimiter | null;
  /** Stream viewers at most (--max-clients); 0 or absent: no limit. */
  maxClients?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string } | null;
}

export interface HttpLimits {
  /** Bytes of request line plus headers; over it node answers 431. */
  maxHeaderSize: number;
  maxHeadersCount: number;
  /** Time to receive the complete request head (slowloris); not the length of a response. */
  headersTimeoutMs: number;
  /** Time to receive the whole request (these GETs have no body). */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** How often node looks for requests over those timeouts. */
  timeoutCheckIntervalMs: number;
}

/** Limits on what a client may send us; requests are tiny GETs, so these are generous. */
export const HTTP_LIMITS: Readonly<HttpLimits> = {
  maxHeaderSize: 8 * 1024,
  maxHeadersCount: 64,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  // node's default is 30 s, which would let a slow client hold a socket six times longer.
  timeoutCheckIntervalMs: 1_000,
};

/** HTTPS: time for a TLS handshake (node's default of 120 s would let idle sockets pile up). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
const STREAM_PATH = '/stream.mjpg';
/** /healthz stays open with a token set: probes rarely carry secrets, and it shows no image. */
const OPEN_PATHS = new Set(['/healthz']);

const ALLOW = 'GET, HEAD';
const SNAPSHOT_RETRY_AFTER_SECONDS = 5;

type Route = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void | Promise<void>;

export function createHttpServer(deps: HttpServerDeps): Server {
  const { hub, registry, metrics } = deps;
  const log = deps.logger.child({ component: 'http' });
  const serverName = deps.serverName ?? 'edgecam-server';
  const version = deps.version ?? '0.0.0';
  const snapshotTimeoutMs = deps.snapshotTimeoutMs ?? 5_000;
  const stallTimeoutMs = deps.stallTimeoutMs ?? 30_000;
  const startedAt = performance.now();
  const viewers = new Set<MjpegViewer>();
  const indexPage = renderIndexPage(serverName, version);

  const routes: Record<string, Route> = {
    '/': (_req, res, query) => {
      // A page opened as /?token=… passes the token on to the stream, snapshot and status URLs.
      const token = deps.access?.required ? query.get('token') : null;
      const page = token ? renderIndexPage(serverName, version, token) : indexPage;
      sendBody(res, 200, 'text/html; charset=utf-8', page, {
        'Content-Security-Policy': INDEX_PAGE_CSP,
        'Referrer-Policy': 'no-referrer',
      });
    },

    '/stream.mjpg': (req, res, query) => {
      const fps = parseFpsParam(query.get('fps'));
      if ('error' in fps) return sendError(res, 400, 'BAD_REQUEST', fps.error);
      const maxViewers = deps.maxClients ?? 0;
      if (maxViewers > 0 && viewers.size >= maxViewers && req.method !== 'HEAD') {
        log.warn({ peer: formatPeerAddress(req.socket), maxClients: maxViewers }, 'too many stream viewers; refusing');
        return sendError(res, 503, 'TOO_MANY_CLIENTS', `this server takes at most ${maxViewers} stream viewers`, {
          'Retry-After': String(SNAPSHOT_RETRY_AFTER_SECONDS),
        });
      }
      if (req.method === 'HEAD') {
        // Tells players what they would get without starting the capture.
        res.writeHead(200, { ...BASE_HEADERS, ...NO_STORE, 'Content-Type': MULTIPART_CONTENT_TYPE });
        res.end();
        return;
      }
      const viewer = new MjpegViewer(res, {
        hub,
        registry,
        logger: log,
        address: formatPeerAddress(req.socket),
        layout: choosePartLayout(undefined, req.headers['user-agent']),
        maxFps: fps.fps,
        stallTimeoutMs,
        onClose: (v) => viewers.delete(v),
      });
      viewers.add(viewer);
      viewer.start();
    },

    '/snapshot.jpg': async (req, res) => {
      const client = registry.register({ protocol: 'http', address: formatPeerAddress(req.socket) });
      try {
        client.setMode('single');
        let frame: CapturedFrame | undefined;
        // While the camera is lost (or when it fails while we wait) the answer is the "no signal"
        // picture: an <img> or a home-automation poller shows why instead of a broken image.
        if (!hub.info().noSignal) {
          try {
            frame = await hub.snapshot(snapshotTimeoutMs);
          } catch (err) {
            if (!hub.info().noSignal) {
              log.warn({ err: errorText(err) }, 'snapshot failed: source unavailable');
              sendError(res, 503, 'SOURCE_UNAVAILABLE', snapshotFailure(err, snapshotTimeoutMs), {
                'Retry-After': String(SNAPSHOT_RETRY_AFTER_SECONDS),
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
    },

    '/status': (_req, res) => {
      sendJson(res, 200, {
        server: serverName,
        version,
        uptime: Math.round(performance.now() - startedAt) / 1000,
        source: hub.info(),
        clients: registry.list(),
      });
    },

    '/metrics': async (_req, res) => {
      const text = await metrics.text();
      sendBody(res, 200, metrics.contentType, text);
    },

    '/healthz': (_req, res) => {
      const health = sourceHealth(hub.info(), Date.now());
      sendJson(res, health.healthy ? 200 : 503, { ok: health.healthy, ...health });
    },
  };

  const limits: HttpLimits = { ...HTTP_LIMITS, ...deps.limits };
  const serverOptions = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  };
  const server: Server = deps.tls
    ? createHttpsServer({ ...serverOptions, key: deps.tls.key, cert: deps.tls.cert, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, listener)
    : createServer(serverOptions, listener);
  server.maxHeadersCount = limits.maxHeadersCount;
  if (deps.tls) {
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      log.debug({ err: err.message, code: err.code, peer: formatPeerAddress(socket) }, 'TLS handshake failed');
    });
  }

  /** Rate limit and token, before any route runs. Returns false when it has answered already. */
  function admit(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    const limiter = deps.rateLimiter;
    if (limiter && path !== STREAM_PATH) {
      const waitMs = limiter.take(addressKey(req.socket.remoteAddress), Date.now());
      if (waitMs > 0) {
        log.debug({ peer: formatPeerAddress(req.socket), path }, 'rate limited');
        sendError(res, 429, 'RATE_LIMITED', 'too many requests from your address; slow down', {
          'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))),
        });
        return false;
      }
    }
    const access = deps.access;
    if (!access?.required || OPEN_PATHS.has(path)) return true;
    const verdict = access.check(
      { address: req.socket.remoteAddress, port: req.socket.remotePort },
      presentedTokens(req.headers.authorization, query),
      'http',
    );
    if (verdict.ok) return true;
    refuse(res, verdict);
    return false;
  }

  function refuse(res: ServerResponse, verdict: Exclude<AccessVerdict, { ok: true }>): void {
    if (verdict.reason === 'throttled') {
      sendError(res, 429, 'TOO_MANY_FAILURES', verdict.message, {
        'Retry-After': String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))),
      });
      return;
    }
    const message =
      verdict.reason === 'missing'
        ? `${verdict.message}: send it as a Bearer token, as the password of Basic authentication, or as ?token=`
        : verdict.message;
    sendError(res, 401, 'UNAUTHORIZED', message, { 'WWW-Authenticate': AUTH_CHALLENGE });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const rawUrl = req.url ?? '/';
    res.on('finish', () => {
      log.debug({ method: req.method, url: redactUrl(rawUrl), status: res.statusCode, ms: Math.round(performance.now() - started) }, 'http request');
    });
    try {
      // Split by hand rather than `new URL(req.url, base)`: that reads `//host/x` as a host.
      const queryAt = rawUrl.indexOf('?');
      const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
      const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
      if (!admit(req, res, path, query)) return;
      const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
      if (!route) return sendError(res, 404, 'NOT_FOUND', `no such path: ${path.slice(0, 200)}`);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${path} accepts ${ALLOW}`, { Allow: ALLOW });
      }
      await route(req, res, query);
    } catch (err) {
      // Logged in full here; the client only learns that it failed.
      log.error({ err, method: req.method, url: redactUrl(rawUrl) }, 'http handler failed');
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'internal error');
      else res.destroy();
    }
  }

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    log.debug({ err: err.message, code: err.code }, 'bad http request');
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  // server.close() waits for every connection to end, and a stream never does by itself: end
  // the streams (with their closing boundary) so that close() just works for the caller.
  const closeServer = server.close.bind(server);
  server.close = ((callback?: (err?: Error) => void) => {
    for (const viewer of viewers) viewer.end();
    return closeServer(callback);
  }) as Server['close'];

  return server;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
