// A network camera's MJPEG over HTTP(S) (ESP32-CAM, µStreamer, mjpg-streamer, IP cameras, another
// edgecam-server's /stream.mjpg): one GET while subscribed, its multipart body split into the
// camera's own JPEGs (no re-encoding), reconnected with backoff when it fails or stalls.
// A frame's way from the camera to a client's socket:
//   response chunks -> splitMpjpeg() (split-frames.ts, the MpjpegDecoder with the response's
//   boundary) -> stampFrames() (source.ts) -> SourceEvent 'frame' -> SharedFrameHub.frames$
import http from 'node:http';
import https from 'node:https';
import { EMPTY, Observable, catchError, map, type Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { CapturedFrame } from '@edgecam/protocol';
import { describeSystemError } from '@edgecam/runtime';
import { fromReadable } from '@edgecam/runtime/rx';
import { MpjpegDecoder } from './mpjpeg-decoder.js';
import { splitMpjpeg } from './split-frames.js';
import { supervisedCapture, type ConnectionTuning, type LinkEvent } from './supervised-capture.js';
import { FrameStamper, stampFrames, type FrameSource, type SourceEvent } from './source.js';
import { peerText } from '../log/peer-text.js';
import { maskUrlPasswords, type CameraCredentials } from './url-credentials.js';

/** The reconnection settings tests may change. */
export type HttpSourceTuning = ConnectionTuning;

/** Options of createHttpMjpegSource. */
export interface HttpMjpegSourceOptions {
  /** http: or https: URL of the multipart stream; a user:password in it is sent as HTTP Basic auth. */
  url: string;
  /** Replaces the URL's user and password (a camera's config keeps them apart from the URL). */
  credentials?: CameraCredentials;
  /** Accept any TLS certificate (a camera with a self-signed one). Default false. */
  insecure?: boolean;
  width: number;
  height: number;
  fps: number;
  logger: Logger;
  /** Largest JPEG accepted from the camera. Default 16 MiB. */
  maxFrameBytes?: number;
  tuning?: HttpSourceTuning;
}

const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The boundary parameter of a multipart Content-Type, or undefined when it is not multipart. */
export function multipartBoundary(contentType: string): string | undefined {
  if (!/^\s*multipart\//i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? '') : '';
}

/** A source pulling MJPEG from a network camera over HTTP(S). */
export function createHttpMjpegSource(o: HttpMjpegSourceOptions): FrameSource {
  const target = new URL(o.url);
  const username = o.credentials?.username ?? decodeURIComponent(target.username);
  const password = o.credentials?.password ?? decodeURIComponent(target.password);
  target.username = '';
  target.password = '';
  const spec = maskUrlPasswords(o.url) + (o.insecure ? '#insecure' : '');
  const where = target.host;
  const authorization = username || password ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : undefined;
  const stamper = new FrameStamper();
  const log = o.logger.child({ source: spec });

  /** What a failed response means, as one sentence. */
  const refused = (res: http.IncomingMessage): string => {
    const status = `HTTP ${res.statusCode}${res.statusMessage ? ` ${peerText(res.statusMessage, 40)}` : ''}`;
    if (res.statusCode === 401) {
      return authorization
        ? `the camera refused the credentials (${status}); check the user and password`
        : `the camera wants a user and password (${status}); give them in the URL (${target.protocol}//USER:PASSWORD@${where}/…)`;
    }
    if (res.statusCode === 404) return `the camera has no stream at ${target.pathname} (${status}); check the path of its MJPEG stream`;
    return `the camera answered ${status} instead of its MJPEG stream`;
  };

  /** A request failure as one sentence; the password is never in it (only the host is named). */
  const unreachable = (err: NodeJS.ErrnoException): string => {
    if (err.code && CERTIFICATE_ERRORS.has(err.code)) {
      return `the camera's TLS certificate is not trusted (${err.message}); add #insecure after the URL if the camera uses a self-signed certificate`;
    }
    return `could not read from ${where}: ${describeSystemError(err)}`;
  };

  /** One connection's frames; errors with the reason when it fails or ends. */
  const connectOnce = (): Observable<CapturedFrame> =>
    new Observable<CapturedFrame>((run) => {
      const fail = (reason: string): void => run.error(new Error(reason));
      let frames: Subscription | undefined;
      const request = (target.protocol === 'https:' ? https : http).get(target, {
        agent: false,
        headers: {
          'User-Agent': 'edgecam-server',
          Accept: 'multipart/x-mixed-replace, */*;q=0.1',
          ...(authorization ? { Authorization: authorization } : {}),
        },
        ...(target.protocol === 'https:' ? { rejectUnauthorized: !o.insecure } : {}),
      });
      request.on('error', (err) => fail(unreachable(err)));
      request.on('response', (res) => {
        const contentType = res.headers['content-type'] ?? '';
        const boundary = multipartBoundary(contentType);
        if (res.statusCode !== 200) {
          fail(refused(res));
        } else if (boundary === undefined) {
          fail(
            `not an MJPEG stream: the camera sent Content-Type ${JSON.stringify(peerText(contentType, 60))}; give the URL of its multipart stream (e.g. /stream, /?action=stream, /stream.mjpg)`,
          );
        }
        if (run.closed) {
          res.destroy();
          return;
        }
        let flowing = false;
        const decoder = new MpjpegDecoder({ maxFrameBytes: o.maxFrameBytes, boundary: boundary || undefined });
        const body$ = fromReadable(res).pipe(
          catchError((err: NodeJS.ErrnoException) => {
            fail(unreachable(err));
            return EMPTY;
          }),
        );
        frames = body$.pipe(splitMpjpeg({ decoder }), stampFrames(stamper)).subscribe({
          next: (frame) => {
            if (!flowing) {
              flowing = true;
              log.info({ contentType: peerText(contentType, 120) }, 'camera stream connected');
            }
            run.next(frame);
          },
          error: (err: Error) => fail(`bad MJPEG from the camera: ${peerText(err.message, 200)}`),
          complete: () => fail('the camera closed the stream'),
        });
      });
      return () => {
        frames?.unsubscribe();
        request.destroy();
      };
    });

  const capture = (): Observable<SourceEvent> =>
    supervisedCapture({
      connect: () => connectOnce().pipe(map((frame): LinkEvent => ({ type: 'frame', frame }))),
      stalled: (silentS, sawFrame) => (sawFrame ? new Error(`no frame from the camera for ${silentS} s`) : new Error(`no frame from ${where} within ${silentS} s of connecting`)),
      log,
      tuning: o.tuning,
    });

  return {
    kind: 'http',
    spec,
    width: o.width,
    height: o.height,
    fps: o.fps,
    capture,
    // Sockets are destroyed on unsubscribe; nothing outlives it.
    settled: async () => {},
  };
}
