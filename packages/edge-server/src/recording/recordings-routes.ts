// The recordings over HTTP: the list, downloads (with Range), deletion (token required when one
// is set) and replay as MJPEG from any instant. Each camera's store is looked up by name, so the
// routes do not know how cameras are configured.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { choosePartLayout, multipartEpilogue, multipartPart, multipartPreamble, MULTIPART_CONTENT_TYPE, writeMultipartFrame } from '@edgecam/protocol';
import type { AccessControl } from '../access/access-control.js';
import { formatPeerAddress } from '../log/peer-address.js';
import type { RecordingsStore, ReplayFrame } from './recordings-store.js';
import { AUTH_CHALLENGE, presentedTokens } from '../http/http-credentials.js';
import { RECORDINGS_PAGE_CSP, renderRecordingsPage } from './recordings-page.js';
import { INSTANT_FORMS, parseInstant, parseRange } from './recordings-range.js';
import { drained, recordingMp4Route } from './recording-mp4-route.js';
import { BASE_HEADERS, NO_STORE, sendBody, sendError, sendJson } from '../http/responses.js';
import type { Route } from '../http/route.js';
import type { HttpContext } from '../http/routes.js';

export interface RecordingsRoutesDeps {
  /** The recordings of a camera, or undefined for a camera that has none configured. */
  store(camera: string): RecordingsStore | undefined;
  /** Cameras that record, for GET /recordings without ?camera=. */
  cameras(): readonly string[];
  /** Checks the token for DELETE; undefined or without a token: anyone may delete. */
  readonly access?: AccessControl | undefined;
  readonly log: Logger;
  /** A replay viewer whose socket has not drained for this long is disconnected. Default 30 s. */
  readonly stallTimeoutMs?: number;
}

/** One endpoint; it checks the method itself (DELETE is allowed on recordings). */
export type RecordingsRoute = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams, path: string) => void | Promise<void>;

export interface RecordingsRoutes {
  /** The list, the page, the files and the replay, for the router. */
  readonly routes: readonly Route[];
  /** The whole thing as a request listener: true when it answered (for tests and simple servers). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

export const RECORDINGS_PATH = '/recordings';
export const RECORDINGS_PAGE_PATH = '/recordings.html';
const FILE_PREFIX = '/recordings/';
const REPLAY_RE = /^\/cams\/([^/]+)\/replay\.mjpg$/;
/** Under /cams/NAME/ (and at the root for the default camera): a time range as one MP4. */
export const RECORDING_MP4_PATH = '/recording.mp4';
const RECORDING_MP4_RE = /^\/cams\/([^/]+)\/recording\.mp4$/;
const MAX_SPEED = 16;
/** Replay skips over gaps between segments (camera loss, downtime) instead of waiting them out. */
const MAX_REPLAY_GAP_MS = 1000;
const ALLOW_FILE = 'GET, HEAD, DELETE';

export function recordingsRoutes(deps: RecordingsRoutesDeps): RecordingsRoutes {
  const exact: Record<string, RecordingsRoute> = {
    [RECORDINGS_PATH]: (req, res, query) => serveList(deps, req, res, query),
    [RECORDINGS_PAGE_PATH]: (req, res, query) => servePage(deps, req, res, query),
  };
  const fileRoute: RecordingsRoute = (req, res, query, path) => serveFile(deps, req, res, query, path);
  const replayRoute: RecordingsRoute = (req, res, query, path) => serveReplay(deps, req, res, query, path);
  const mp4 = recordingMp4Route(deps.stallTimeoutMs ?? 30_000);
  const mp4Route = (camera: string): RecordingsRoute => (req, res, query) => mp4(deps.store(camera), camera, req, res, query);
  const match = (path: string): RecordingsRoute | undefined => {
    if (path.startsWith(FILE_PREFIX)) return fileRoute;
    if (REPLAY_RE.test(path)) return replayRoute;
    const mp4Camera = RECORDING_MP4_RE.exec(path)?.[1];
    if (mp4Camera !== undefined) return mp4Route(safeDecode(mp4Camera) ?? mp4Camera);
    return undefined;
  };
  const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?')[0]!;
  return {
    routes: [
      ...Object.entries(exact).map(([path, route]): Route => ({ path, handle: (_ctx, req, res, query) => route(req, res, query, path) })),
      { path: /^\/recordings\/.*$/, handle: (_ctx, req, res, query) => fileRoute(req, res, query, pathOf(req)) },
      { path: REPLAY_RE, long: true, handle: (ctx, req, res, query, params) => replayAsViewer(ctx, req, res, params[0]!, () => replayRoute(req, res, query, pathOf(req))) },
      // The router has put the camera (named, or the default one at the root) into the context.
      {
        path: RECORDING_MP4_PATH,
        under: 'both',
        long: true,
        handle: (ctx, req, res, query) => replayAsViewer(ctx, req, res, ctx.camera.name, () => mp4Route(ctx.camera.name)(req, res, query, RECORDING_MP4_PATH)),
      },
    ],
    async handle(req, res) {
      const raw = req.url ?? '/';
      const at = raw.indexOf('?');
      const path = at === -1 ? raw : raw.slice(0, at);
      const query = new URLSearchParams(at === -1 ? '' : raw.slice(at + 1));
      const route = Object.hasOwn(exact, path) ? exact[path] : match(path);
      if (!route) return false;
      await route(req, res, query, path);
      return true;
    },
  };
}

/** A replay is a viewer like a live stream: it takes a stream slot, and /status lists it. */
async function replayAsViewer(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, rawCamera: string, replay: () => void | Promise<void>): Promise<void> {
  if (req.method === 'GET') {
    const giveBack = ctx.streams.open('replay', req, res, ctx.log);
    if (!giveBack) return;
    const client = ctx.registry.register({ protocol: 'http', address: formatPeerAddress(req.socket), camera: safeDecode(rawCamera) ?? rawCamera });
    client.setMode('streaming');
    res.once('close', () => {
      giveBack();
      client.close();
    });
  }
  await replay();
}

function onlyGet(req: IncomingMessage, res: ServerResponse, allow = 'GET, HEAD'): boolean {
  if (req.method === 'GET' || req.method === 'HEAD' || (allow.includes('DELETE') && req.method === 'DELETE')) return true;
  sendError(res, 405, 'METHOD_NOT_ALLOWED', `this path accepts ${allow}`, { Allow: allow });
  return false;
}

/** GET /recordings[?camera=NAME]: every segment as JSON, oldest first per camera. */
async function serveList(deps: RecordingsRoutesDeps, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
  if (!onlyGet(req, res)) return;
  const only = query.get('camera');
  const names = only === null ? deps.cameras() : [only];
  const recordings = [];
  for (const name of names) {
    const store = deps.store(name);
    if (!store) return sendError(res, 404, 'NOT_FOUND', `camera ${JSON.stringify(name.slice(0, 64))} does not record; see GET /recordings for those that do`);
    recordings.push(...(await store.list()));
  }
  sendJson(res, 200, { cameras: names, recordings });
}

function servePage(deps: RecordingsRoutesDeps, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
  if (!onlyGet(req, res)) return;
  const token = deps.access?.required ? query.get('token') : null;
  sendBody(res, 200, 'text/html; charset=utf-8', renderRecordingsPage(token), {
    'Content-Security-Policy': RECORDINGS_PAGE_CSP,
    'Referrer-Policy': 'no-referrer',
  });
}

/** The store and file named by /recordings/CAM/FILE, or undefined after answering 404. */
function fileOf(deps: RecordingsRoutesDeps, res: ServerResponse, path: string): { store: RecordingsStore; file: string } | undefined {
  const parts = path.slice(FILE_PREFIX.length).split('/').map((p) => safeDecode(p));
  const [camera, file] = parts;
  const store = parts.length === 2 && camera && file ? deps.store(camera) : undefined;
  if (!store || store.pathOf(file!) === undefined) {
    sendError(res, 404, 'NOT_FOUND', 'no such recording: the path is /recordings/CAMERA/FILE as GET /recordings lists them');
    return undefined;
  }
  return { store, file: file! };
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** GET/HEAD /recordings/CAM/FILE (Range: one byte range), DELETE the same. */
async function serveFile(deps: RecordingsRoutesDeps, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, path: string): Promise<void> {
  if (!onlyGet(req, res, ALLOW_FILE)) return;
  const found = fileOf(deps, res, path);
  if (!found) return;
  if (req.method === 'DELETE') return deleteFile(deps, req, res, query, found.store, found.file);
  // Opened without following a symlink and checked to be a regular file: only our segments are served.
  const opened = await found.store.open(found.file);
  if (!opened) return sendError(res, 404, 'NOT_FOUND', `no recording ${found.file}`);
  const { fh, size } = opened;
  const headers = {
    ...BASE_HEADERS,
    ...NO_STORE,
    'Content-Type': found.file.endsWith('.mp4') ? 'video/mp4' : 'video/x-msvideo',
    'Content-Disposition': `attachment; filename="${found.store.camera}_${found.file}"`,
    'Accept-Ranges': 'bytes',
    'Last-Modified': opened.mtime.toUTCString(),
  };
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    await fh.close();
    return sendError(res, 416, 'RANGE_NOT_SATISFIABLE', `the file has ${size} bytes`, { 'Content-Range': `bytes */${size}` });
  }
  const [start, end] = range ?? [0, size - 1];
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'Content-Length': Math.max(0, end - start + 1),
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
  });
  if (req.method === 'HEAD' || end < start) {
    await fh.close();
    return void res.end();
  }
  // The stream closes the handle when it ends or is destroyed.
  const stream = fh.createReadStream({ start, end });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

async function deleteFile(
  deps: RecordingsRoutesDeps,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  store: RecordingsStore,
  file: string,
): Promise<void> {
  const { access } = deps;
  if (access?.required) {
    const presented = [...new Set(presentedTokens(req.headers.authorization, query))];
    const verdict = access.check({ address: req.socket.remoteAddress, port: req.socket.remotePort }, presented, 'http');
    if (!verdict.ok) {
      if (verdict.reason === 'throttled') {
        return sendError(res, 429, 'TOO_MANY_FAILURES', verdict.message, { 'Retry-After': String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))) });
      }
      return sendError(res, 401, 'UNAUTHORIZED', `deleting a recording needs the token: ${verdict.message}`, { 'WWW-Authenticate': AUTH_CHALLENGE });
    }
  }
  const result = await store.remove(file);
  if (result === 'missing') return sendError(res, 404, 'NOT_FOUND', `no recording ${file}`);
  if (result === 'recording') return sendError(res, 409, 'CONFLICT', `${file} is being recorded; it can be deleted once its segment is closed`);
  deps.log.info({ camera: store.camera, file, peer: formatPeerAddress(req.socket) }, 'recording deleted');
  res.writeHead(204, { ...BASE_HEADERS, ...NO_STORE });
  res.end();
}

/**
 * GET /cams/NAME/replay.mjpg?from=T&speed=S: the recording as MJPEG from the first frame at or
 * after T, paced by the frames' timestamps at S times real speed (1 to 16), until its end. A
 * slow reader slows the replay down (nothing is dropped from a file); X-Replay-Start gives the
 * first frame's time in Unix ms, and each length-prefixed part its own as X-Timestamp (the
 * recordings page follows the frame it shows with it).
 */
async function serveReplay(deps: RecordingsRoutesDeps, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, path: string): Promise<void> {
  if (!onlyGet(req, res)) return;
  const camera = safeDecode(REPLAY_RE.exec(path)![1]!);
  const store = camera === undefined ? undefined : deps.store(camera);
  if (!store) return sendError(res, 404, 'NOT_FOUND', 'no such camera records; see GET /recordings');
  const fromText = query.get('from');
  const from = fromText === null ? 0 : parseInstant(fromText);
  if (from === undefined) return sendError(res, 400, 'BAD_REQUEST', `from=${fromText!.slice(0, 64)} is no time: give ${INSTANT_FORMS}`);
  const speedText = query.get('speed');
  const speed = speedText === null ? 1 : Number(speedText);
  if (!Number.isFinite(speed) || speed < 1 || speed > MAX_SPEED) return sendError(res, 400, 'BAD_REQUEST', `speed must be a number from 1 to ${MAX_SPEED}`);
  const frames = store.frames(from);
  let next = await frames.next();
  if (next.done) {
    const mp4 = (await store.list()).some((e) => e.format === 'mp4');
    if (mp4) return sendError(res, 404, 'NOT_FOUND', `${camera} records H.264 as MP4, which replay.mjpg cannot send: download its segments from /recordings/${camera}/FILE (or with edgecam pull), which play as they are`);
    return sendError(res, 404, 'NOT_FOUND', `no recording of ${camera} at or after ${new Date(from).toISOString()}`);
  }
  const layout = choosePartLayout(query.get('advance_headers'), req.headers['user-agent']);
  res.writeHead(200, {
    ...BASE_HEADERS,
    ...NO_STORE,
    'Content-Type': MULTIPART_CONTENT_TYPE,
    'X-Replay-Start': String(Math.round(next.value.timeMs)),
  });
  if (req.method === 'HEAD') {
    await frames.return(undefined);
    return void res.end();
  }
  let gone = false;
  res.on('close', () => (gone = true));
  res.write(multipartPreamble(layout));
  const startedAt = performance.now();
  let mediaMs = 0;
  let prev: ReplayFrame | undefined;
  try {
    while (!next.done && !gone) {
      const frame = next.value;
      if (prev) mediaMs += Math.min(Math.max(0, frame.timeMs - prev.timeMs), MAX_REPLAY_GAP_MS);
      prev = frame;
      const waitMs = startedAt + mediaMs / speed - performance.now();
      if (waitMs > 1) await new Promise((r) => setTimeout(r, waitMs));
      if (gone) break;
      const roomy = writeMultipartFrame(res, multipartPart(layout, frame.jpeg.length, frame.timeMs), frame.jpeg);
      if (!roomy && !(await drained(res, deps.stallTimeoutMs ?? 30_000))) {
        res.destroy();
        break;
      }
      next = await frames.next();
    }
  } finally {
    await frames.return(undefined);
  }
  if (!gone) res.end(multipartEpilogue(layout));
}
