// The H.264 endpoints of the cameras: WHEP (RFC 9725) for WebRTC viewers, live fragmented MP4,
// and the player script.
//   POST   /cams/NAME/whep        SDP offer in, 201 + Location + SDP answer out
//   DELETE /cams/NAME/whep/ID     ends that viewer
//   GET    /cams/NAME/stream.mp4  live fMP4 from the next keyframe (/stream.mp4: the default camera)
//   GET    /h264-player.js        the page piece (h264-player.ts)
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ClientRegistry } from '../contracts.js';
import { EdgeServerError } from '../errors.js';
import type { H264Hub } from './h264-hub.js';
import { WhepSession } from './whep-session.js';
import { Mp4Viewer } from './mp4-viewer.js';
import { formatPeerAddress } from '../log/peer-address.js';
import { peerText } from '../log/peer-text.js';
import { H264_PLAYER_SCRIPT } from './h264-player.js';
import { readBody } from '../http/read-body.js';
import { BASE_HEADERS, NO_STORE, sendBody, sendError } from '../http/responses.js';
import type { Route } from '../http/route.js';
import type { HttpContext } from '../http/routes.js';
import { StreamAdmission } from '../http/stream-admission.js';

/** The player script's path. */
export const H264_PLAYER_PATH = '/h264-player.js';
/** The live MP4's path, under /cams/NAME/ and at the root for the default camera. */
export const MP4_STREAM_PATH = '/stream.mp4';
/** What an MP4 viewer's socket may hold before it skips to the next keyframe: a few seconds of video. */
const MP4_MAX_BUFFERED_BYTES = 1024 * 1024;
/** An MP4 viewer that has read nothing for this long (when the server's context gives none) is disconnected. */
const MP4_STALL_TIMEOUT_MS = 30_000;
// An SDP offer from a browser is a few kB; anything far larger is not one.
const MAX_OFFER_BYTES = 64 * 1024;
const WHEP_PATH = /^\/cams\/([^/]+)\/whep(?:\/([0-9a-f-]{36}))?$/;

/** Options of H264Routes. */
export interface H264RoutesOptions {
  /** The camera's H.264 hub, or undefined when the camera has none (the request gets 404). */
  hubOf(camera: string): H264Hub | undefined;
  registry: ClientRegistry;
  /** WebRTC viewers at most, over all cameras, when handle() is given no HTTP server's context; 0: no limit. */
  maxClients: number;
  logger: Logger;
  /** Extra ICE host candidates, e.g. ['127.0.0.1'] when viewers come over loopback. */
  iceAddresses?: string[];
}

/** The WHEP endpoints and their viewers. */
export class H264Routes {
  private readonly opts: H264RoutesOptions;
  private readonly sessions = new Map<string, { camera: string; session: WhepSession }>();
  private readonly mp4Viewers = new Map<Mp4Viewer, string>();
  private readonly ownStreams: StreamAdmission;

  constructor(opts: H264RoutesOptions) {
    this.opts = opts;
    this.ownStreams = new StreamAdmission(opts.maxClients, 0);
  }

  /** WebRTC viewers now. */
  get viewerCount(): number {
    return this.sessions.size;
  }

  /** One camera's WebRTC viewers now. */
  viewersOf(camera: string): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.camera === camera) n++;
    return n;
  }

  /** One camera's stream.mp4 viewers now. */
  mp4ViewersOf(camera: string): number {
    let n = 0;
    for (const c of this.mp4Viewers.values()) if (c === camera) n++;
    return n;
  }

  /** The router's view: the player script, the WHEP paths (each checking its own methods) and stream.mp4. */
  readonly routes: readonly Route[] = [
    ...[H264_PLAYER_PATH, WHEP_PATH].map((path): Route => ({
      path,
      handle: (ctx, req, res) => void this.handle(req, res, (req.url ?? '/').split('?')[0]!, ctx),
    })),
    {
      path: MP4_STREAM_PATH,
      under: 'both',
      methods: ['GET'],
      long: true,
      handle: (ctx, req, res) => this.settle(this.streamMp4(ctx.camera.name, req, res, ctx), res),
    },
  ];

  /**
   * Answers the request if the path is one of ours; false leaves it to the other routes. `ctx`, the
   * HTTP server's, counts each viewer against its stream slots (--max-clients, --max-per-address).
   */
  handle(req: IncomingMessage, res: ServerResponse, path: string, ctx?: Pick<HttpContext, 'streams' | 'log'>): boolean {
    if (path === H264_PLAYER_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') sendError(res, 405, 'METHOD_NOT_ALLOWED', 'use GET', { Allow: 'GET, HEAD' });
      else sendBody(res, 200, 'text/javascript; charset=utf-8', H264_PLAYER_SCRIPT);
      return true;
    }
    const m = WHEP_PATH.exec(path);
    if (!m) return false;
    const camera = decodeURIComponent(m[1]!);
    const id = m[2];
    if (id === undefined && req.method === 'POST') this.settle(this.offer(camera, req, res, ctx), res);
    else if (id !== undefined && req.method === 'DELETE') this.settle(this.end(camera, id, res), res);
    else {
      const allow = id === undefined ? 'POST' : 'DELETE';
      sendError(res, 405, 'METHOD_NOT_ALLOWED', `use ${allow} here (WHEP without trickle ICE)`, { Allow: allow });
    }
    return true;
  }

  /** A handler's failure is this request's 500, never the process's: nothing else awaits it. */
  private settle(handling: Promise<void>, res: ServerResponse): void {
    handling.catch((err: unknown) => {
      this.opts.logger.error({ err }, 'a WHEP request failed');
      if (!res.headersSent && !res.destroyed) sendError(res, 500, 'INTERNAL', 'the request failed on the server; see its log');
      else res.destroy();
    });
  }

  /** Ends every viewer (the server is closing). */
  async close(): Promise<void> {
    for (const viewer of this.mp4Viewers.keys()) viewer.end();
    await Promise.all([...this.sessions.values()].map(({ session }) => session.close('server closing')));
  }

  /**
   * GET stream.mp4: the camera's H.264 as live fragmented MP4 from its next keyframe, for as long
   * as the viewer stays. It takes an MP4 stream slot (--max-clients, --max-per-address).
   */
  private async streamMp4(camera: string, req: IncomingMessage, res: ServerResponse, ctx: Pick<HttpContext, 'streams' | 'log' | 'stallTimeoutMs'>): Promise<void> {
    const hub = this.opts.hubOf(camera);
    if (!hub) return sendError(res, 404, 'NOT_FOUND', `camera ${JSON.stringify(camera)} has no H.264 output; enable h264 for it in the config (or watch stream.mjpg)`);
    try {
      await hub.checkEncoder();
    } catch (err) {
      const message = err instanceof EdgeServerError ? err.message : `the H.264 encoder cannot start: ${(err as Error).message}`;
      return sendError(res, 503, 'SOURCE_UNAVAILABLE', message);
    }
    const headers = { ...BASE_HEADERS, ...NO_STORE, 'Content-Type': 'video/mp4' };
    if (req.method === 'HEAD') {
      res.writeHead(200, headers);
      return void res.end();
    }
    const giveBack = ctx.streams.open('mp4', req, res, ctx.log);
    if (!giveBack) return;
    const peer = formatPeerAddress(req.socket);
    const client = this.opts.registry.register({ protocol: 'http', address: peer, camera });
    const log = this.opts.logger.child({ camera, peer });
    client.setMode('streaming');
    res.writeHead(200, headers);
    const viewer = new Mp4Viewer(res, { client, logger: log, maxBufferedBytes: MP4_MAX_BUFFERED_BYTES, stallTimeoutMs: ctx.stallTimeoutMs || MP4_STALL_TIMEOUT_MS });
    this.mp4Viewers.set(viewer, camera);
    // From the next keyframe: older pictures would only add their age to the latency.
    const detach = hub.attach(viewer, { replay: false });
    log.info('mp4 viewer connected');
    res.once('close', () => {
      detach();
      viewer.end();
      this.mp4Viewers.delete(viewer);
      giveBack();
      client.close();
      log.info('mp4 viewer left');
    });
  }

  private async offer(camera: string, req: IncomingMessage, res: ServerResponse, ctx: Pick<HttpContext, 'streams' | 'log'> | undefined): Promise<void> {
    const hub = this.opts.hubOf(camera);
    if (!hub) return sendError(res, 404, 'NOT_FOUND', `camera ${JSON.stringify(camera)} has no H.264 output; enable h264 for it in the config`);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/sdp') return sendError(res, 400, 'BAD_REQUEST', 'send the SDP offer with Content-Type: application/sdp');
    // The slot is taken before the offer is read; the request gives it back, or the session once it has one.
    const giveBack = (ctx?.streams ?? this.ownStreams).open('webrtc', req, res, ctx?.log ?? this.opts.logger);
    if (!giveBack) return;
    let held = false;
    res.once('close', () => held || giveBack());
    const offer = await readBody(req, MAX_OFFER_BYTES);
    if (!offer.ok) {
      // A peer that broke off mid-body gets nothing; there is nobody left to answer.
      if (offer.reason === 'aborted') return void res.destroy();
      return sendError(res, 413, 'BAD_REQUEST', `the SDP offer is larger than ${MAX_OFFER_BYTES} bytes: send a browser's offer as is`, { Connection: 'close' });
    }
    const sdp = offer.body.toString('utf8');
    if (!/^m=video /m.test(sdp) || !/^a=rtpmap:\d+ H264\/90000/im.test(sdp)) {
      return sendError(res, 400, 'BAD_REQUEST', 'the SDP offer must receive video in H.264 (an m=video line with an H264/90000 rtpmap)');
    }
    try {
      await hub.checkEncoder();
    } catch (err) {
      const message = err instanceof EdgeServerError ? err.message : `the H.264 encoder cannot start: ${(err as Error).message}`;
      return sendError(res, 503, 'SOURCE_UNAVAILABLE', message);
    }
    const peer = formatPeerAddress(req.socket);
    const client = this.opts.registry.register({ protocol: 'http', address: peer, camera });
    const log = this.opts.logger.child({ camera, peer });
    const session = new WhepSession({
      hub,
      client,
      logger: log,
      // A viewer on this machine reaches us over loopback, which werift does not gather by itself.
      iceAddresses: this.opts.iceAddresses ?? (isLoopback(req.socket.remoteAddress) ? ['127.0.0.1'] : undefined),
      onClosed: (s) => {
        this.sessions.delete(s.id);
        giveBack();
      },
    });
    held = true;
    this.sessions.set(session.id, { camera, session });
    let answer: string;
    try {
      answer = await session.answer(sdp);
    } catch (err) {
      await session.close('bad offer');
      log.info({ err: peerText((err as Error).message) }, 'webrtc offer refused');
      return sendError(res, 400, 'BAD_REQUEST', 'the SDP offer could not be answered: it must offer H.264 video (packetization-mode 1)');
    }
    log.info({ session: session.id }, 'webrtc viewer offered');
    sendBody(res, 201, 'application/sdp', answer, {
      ...BASE_HEADERS,
      ...NO_STORE,
      Location: `/cams/${encodeURIComponent(camera)}/whep/${session.id}`,
    });
  }

  private async end(camera: string, id: string, res: ServerResponse): Promise<void> {
    const entry = this.sessions.get(id);
    if (!entry || entry.camera !== camera) return sendError(res, 404, 'NOT_FOUND', 'no such WebRTC viewer (it may have ended already)');
    await entry.session.close('viewer ended it');
    res.writeHead(200, { ...BASE_HEADERS, 'Content-Length': 0 });
    res.end();
  }
}

/** Whether a peer address is this machine's loopback (127.0.0.0/8, ::1, or IPv4 loopback mapped into IPv6). */
function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^(::ffff:)?127\./i.test(address));
}
