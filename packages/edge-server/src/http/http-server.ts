// The HTTP side of edgecam-server, on plain node:http: the live MJPEG stream, snapshots, a
// viewer page, status, Prometheus metrics and a health check, all over the one shared capture.
// The endpoints are in routes.ts; this file owns the node server, its limits and its closing.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { AccessControl } from '../access/access-control.js';
import type { HostRateLimiter } from '../access/rate-limiter.js';
import { LogLimiter } from '../log/log-limiter.js';
import type { ClientRegistry, FrameHub, ServerMetrics } from '../contracts.js';
import { formatPeerAddress } from '../log/peer-address.js';
import { allowedHosts } from '../access/allowed-hosts.js';
import { admit } from './admission.js';
import { redactUrl } from './http-credentials.js';
import { indexPageCsp, renderIndexPage, type PageParts } from './index-page.js';
import { findRoute, type Route } from './route.js';
import { sendError } from './responses.js';
import { StreamAdmission } from './stream-admission.js';
import { CORE_ROUTES, resolveAlias, type HttpCamera, type HttpCameras, type HttpContext } from './routes.js';
import { showPeerText } from '../log/peer-text.js';
import { CAMERA_NAME_EXPECT, CAMERA_NAME_PATTERN, DEFAULT_CAMERA_NAME } from '../config/camera-config.js';

/** What the HTTP server works with: the shared capture and bookkeeping, plus optional settings. */
export interface HttpServerDeps {
  /** The default camera's capture. */
  hub: FrameHub;
  /** Every camera, the default (whose hub is `hub`) first; absent: `hub` alone, as camera `default`. */
  cameras?: HttpCameras;
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
  /** Without a token, the names (besides IP addresses, localhost, *.local and this machine's) the server answers to. */
  allowedHosts?: readonly string[];
  /** Bounds the lines peers cause; shared with the TCP side by the server. Default: one of its own. */
  logLimiter?: LogLimiter;
  /** Requests per host for every endpoint but the stream; null or absent: no limit. */
  rateLimiter?: HostRateLimiter | null;
  /** Open streams of each kind (MJPEG, replay, WebRTC, events) at most (--max-clients); 0 or absent: no limit. */
  maxClients?: number;
  /** Open streams of each kind per host (--max-per-address); 0 or absent: no limit. */
  maxPerAddress?: number;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string } | null;
  /** The features' endpoints, looked up before the core's (theirs take their own methods). */
  routes?: readonly Route[];
  /** The features' parts of the viewer page. */
  pageParts?: PageParts;
  /** What /status shows of a camera's features, under the camera. */
  cameraStatus?(camera: string): Record<string, unknown>;
  /** Called when the server closes, before it waits for connections (feature streams end here). */
  onClose?(): void;
}

/** Limits on requests, so slow or hostile clients stay cheap. */
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
  /** HTTPS: a TLS handshake not done in this time is failed and its socket destroyed. */
  tlsHandshakeTimeoutMs: number;
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
  // node's default of 120 s would let silent sockets pile up.
  tlsHandshakeTimeoutMs: 10_000,
};
/** /cams/NAME/rest: the camera's name and the path under it. */
const CAMERA_PATH = /^\/cams\/([^/]*)(\/.*)?$/;

/** The HTTP side, running: the node server to listen on, and a close that ends the streams first. */
export interface EdgeHttpServer {
  /** The node:http (or node:https) server: listen on it, watch its connections. */
  readonly server: Server;
  /**
   * Ends every stream with its closing boundary, then closes the server. A stream never ends by
   * itself, so connections still open after `graceMs` (default: none) are cut.
   */
  close(graceMs?: number): Promise<void>;
}

/** The HTTP server over the shared capture; it does not listen yet. */
export function createHttpServer(deps: HttpServerDeps): EdgeHttpServer {
  const serverName = deps.serverName ?? 'edgecam-server';
  const version = deps.version ?? '0.0.0';
  const only: HttpCamera = { name: DEFAULT_CAMERA_NAME, hub: deps.hub };
  const cameras: HttpCameras = deps.cameras ?? { default: only, get: (n) => (n === only.name ? only : undefined), names: () => [only.name], list: () => [only] };
  const ctx: HttpContext = {
    hub: cameras.default.hub,
    camera: cameras.default,
    cameras,
    registry: deps.registry,
    metrics: deps.metrics,
    log: deps.logger.child({ component: 'http' }),
    logLimiter: deps.logLimiter ?? new LogLimiter(),
    serverName,
    version,
    startedAt: performance.now(),
    indexPage: renderIndexPage(serverName, version, undefined, deps.pageParts),
    pageParts: deps.pageParts ?? (() => []),
    indexCsp: indexPageCsp(deps.pageParts?.(String) ?? []),
    featureStatus: deps.cameraStatus,
    snapshotTimeoutMs: deps.snapshotTimeoutMs ?? 5_000,
    stallTimeoutMs: deps.stallTimeoutMs ?? 30_000,
    access: deps.access,
    hostAllowed: allowedHosts(deps.allowedHosts ?? []),
    rateLimiter: deps.rateLimiter ?? null,
    viewers: new Set(),
    streams: new StreamAdmission(deps.maxClients ?? 0, deps.maxPerAddress ?? 0),
  };
  const routes = [...(deps.routes ?? []), ...CORE_ROUTES];
  const server = createNodeServer(deps, { ...HTTP_LIMITS, ...deps.limits }, (req, res) => void handleRequest(ctx, routes, req, res));
  const peerLog = (socket: Socket) => ctx.logLimiter.forPeer(ctx.log, socket.remoteAddress);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(peerLog(socket), err, socket));
  if (deps.tls) {
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // With a listener here node leaves the socket open (CLOSE_WAIT once the peer leaves).
      socket.destroy();
      peerLog(socket).debug({ err: err.message, code: err.code, peer: formatPeerAddress(socket) }, 'TLS handshake failed');
    });
  }
  return {
    server,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        // server.close() waits for every connection, and a stream ends only when we end it.
        for (const viewer of ctx.viewers) viewer.end();
        deps.onClose?.();
        server.close(() => resolve());
        if (graceMs > 0) setTimeout(() => server.closeAllConnections(), graceMs).unref();
        else server.closeAllConnections();
      }),
  };
}

function createNodeServer(deps: HttpServerDeps, limits: HttpLimits, listener: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const options = {
    maxHeaderSize: limits.maxHeaderSize,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
  };
  const server: Server = deps.tls
    ? createHttpsServer({ ...options, key: deps.tls.key, cert: deps.tls.cert, handshakeTimeout: limits.tlsHandshakeTimeoutMs }, listener)
    : createServer(options, listener);
  server.maxHeadersCount = limits.maxHeadersCount;
  return server;
}

/** Admission, then the route; a handler that throws is logged here and answered 500. */
async function handleRequest(server: HttpContext, routes: readonly Route[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Every line this request causes counts against its peer's log budget.
  let ctx: HttpContext = { ...server, log: server.logLimiter.forPeer(server.log, req.socket.remoteAddress) };
  const started = performance.now();
  const rawUrl = req.url ?? '/';
  res.on('finish', () => {
    ctx.log.debug({ method: req.method, url: redactUrl(rawUrl), status: res.statusCode, ms: Math.round(performance.now() - started) }, 'http request');
  });
  try {
    // Split by hand rather than `new URL(req.url, base)`: that reads `//host/x` as a host.
    const queryAt = rawUrl.indexOf('?');
    const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
    const path = resolveAlias(rawPath, query);
    const cam = CAMERA_PATH.exec(path);
    // Under /cams/NAME/ the path after the name names a camera route (a feature's own patterns see the whole path).
    const sub = cam ? (cam[2] ?? '/') : path;
    const found = findRoute(routes, path, 'root') ?? (cam ? findRoute(routes, sub, 'camera') : undefined);
    if (!admit(ctx, req, res, sub, query, found?.route)) return;
    // A camera's name goes into log lines, SSE comments and messages: only names a camera could have get that far.
    const notAName = [...(cam ? [decodeURIComponentSafe(cam[1] ?? '')] : []), ...query.getAll('camera')].find((n) => !CAMERA_NAME_PATTERN.test(n));
    if (notAName !== undefined) {
      return sendError(res, 400, 'BAD_REQUEST', `${showPeerText(notAName)} is no camera name: those are ${CAMERA_NAME_EXPECT}, and GET /status lists this server's cameras`);
    }
    // Under /cams/NAME/ the camera must exist, whether a camera route or no route answers there.
    const servesCamera = found?.route.under !== undefined && found.route.under !== 'root';
    if (cam && (servesCamera || !found)) {
      const name = decodeURIComponentSafe(cam[1] ?? '');
      const camera = ctx.cameras.get(name);
      if (!camera) return sendError(res, 404, 'UNKNOWN_CAMERA', `no camera ${showPeerText(name)}; the cameras are: ${ctx.cameras.names().join(', ')}`);
      if (servesCamera) ctx = { ...ctx, camera, hub: camera.hub, log: ctx.log.child({ camera: camera.name }) };
    }
    if (!found) return sendError(res, 404, 'NOT_FOUND', `no such path: ${path.slice(0, 200)}`);
    const { route, params } = found;
    if (route.methods && !takes(route.methods, req.method)) {
      const allow = route.methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])).join(', ');
      return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${path.slice(0, 200)} accepts ${allow}`, { Allow: allow });
    }
    await route.handle(ctx, req, res, query, params);
  } catch (err) {
    // Logged in full here; the client only learns that it failed.
    ctx.log.error({ err, method: req.method, url: redactUrl(rawUrl) }, 'http handler failed');
    if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'internal error');
    else res.destroy();
  }
}

/** Whether a route of `methods` takes `method` (GET takes HEAD). */
function takes(methods: readonly string[], method: string | undefined): boolean {
  return method !== undefined && (methods.includes(method) || (method === 'HEAD' && methods.includes('GET')));
}

/** A request node could not parse (or that came too slowly): a bare status line, then close. */
function answerClientError(log: Logger, err: NodeJS.ErrnoException, socket: Socket): void {
  log.debug({ err: err.message, code: err.code }, 'bad http request');
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** A path segment decoded, or as it is when it is no valid percent-encoding. */
function decodeURIComponentSafe(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
