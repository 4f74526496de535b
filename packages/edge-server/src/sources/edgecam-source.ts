// Another edgecam-server as a source (`edgecam[s]://HOST[:PORT][/CAMERA]`): a chain device ->
// gateway over v2, so every frame keeps the device's capture time (latency, recordings and the
// gateway's own v2 clients see the device's clock) and the device's camera is chosen by name.
// The token goes in HELLO only after TLS is up and, when pinned, the certificate matched.
// While connected it pings now and then: a device whose own camera is lost says so (a non-fatal
// ERROR) and sends no frames, and its PONGs keep that quiet connection from counting as stalled.
// A frame's way: socket chunks -> ServerMessageDecoder (@edgecam/protocol) -> FrameStamper with
// the device's captureTimeUs (source.ts) -> supervisedCapture -> SourceEvent 'frame' -> SharedFrameHub
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Observable } from 'rxjs';
import type { Logger } from 'pino';
import {
  Command,
  DEFAULT_MAX_FRAME_BYTES,
  ProtocolError,
  ServerMessageDecoder,
  V2_MAGIC,
  encodeCommandMessage,
  encodeHello,
  encodePing,
  isFatalErrorCode,
  type ErrorBody,
  type ServerMessage,
} from '@edgecam/protocol';
import { EdgeServerError } from '../errors.js';
import { peerText, showPeerText } from '../log/peer-text.js';
import { VERSION } from '../version.js';
import { dial } from './dial.js';
import { lanResolver, type Endpoint, type HostResolver } from './host-resolver.js';
import { edgecamUrlText, hostPortText, type EdgecamSpec } from './network-url.js';
import { looksLikeText } from '@edgecam/runtime';
import { FrameStamper, type FrameSource, type SourceEvent } from './source.js';
import { supervisedCapture, type ConnectionTuning, type LinkEvent } from './supervised-capture.js';
import { maskUrlPasswords } from './url-credentials.js';

/** Options of createEdgecamSource. */
export interface EdgecamSourceOptions {
  device: Omit<EdgecamSpec, 'kind'>;
  width: number;
  height: number;
  fps: number;
  logger: Logger;
  /** Turns host and port into the address dialled, before each connection. Default: lanResolver (mDNS for NAME.local, else the system's resolver). */
  resolveHost?: HostResolver;
  /** Largest JPEG accepted. Default 16 MiB. */
  maxFrameBytes?: number;
  tuning?: ConnectionTuning;
}

/** The sentence for an ERROR the device closes the connection after. */
function refusal(error: ErrorBody, device: EdgecamSourceOptions['device']): Error {
  const said = `${peerText(error.code, 40)}: ${peerText(error.message, 160)}`;
  switch (error.code) {
    case 'UNAUTHORIZED':
      return new EdgeServerError(
        'SOURCE_REFUSED',
        device.token === null
          ? `the device wants a token (${said}); add ?token=TOKEN to the source`
          : `the device refused the token (${said}); give the device's token in ?token= of the source`,
      );
    case 'UNKNOWN_CAMERA':
      return new EdgeServerError('SOURCE_REFUSED', `the device has no camera ${device.camera ?? '(default)'} (${said}); name one of its cameras after the port (edgecam://HOST:PORT/CAMERA)`);
    case 'TOO_MANY_CLIENTS':
      return new EdgeServerError('SOURCE_REFUSED', `the device takes no more clients (${said}); raise its maxClients or disconnect one`);
    default:
      return new EdgeServerError('SOURCE_PROTOCOL', `the device ended the connection with ${said}`);
  }
}

/** The sentence for bytes the v2 decoder refused; `head`: the first bytes, when they came before any WELCOME. */
function notV2(address: string, head: Buffer | null, err: ProtocolError): Error {
  if (head && looksLikeText(head)) {
    const text = showPeerText(head.toString('latin1'));
    return new EdgeServerError(
      'SOURCE_PROTOCOL',
      head.subarray(0, 5).toString('latin1') === 'HTTP/'
        ? `${address} answered with text, not v2: ${text}; that is an HTTP port: give the device's TCP port (6810 unless it sets --port)`
        : `${address} answered with text, not v2: ${text}; the seed's camera server is read with tcp://${address}`,
    );
  }
  return new EdgeServerError('SOURCE_PROTOCOL', `the device broke the v2 protocol (${err.code}: ${peerText(err.message, 160)})`);
}

/** A source reading one camera of another edgecam-server over v2. */
export function createEdgecamSource(o: EdgecamSourceOptions): FrameSource {
  const device = o.device;
  const spec = maskUrlPasswords(edgecamUrlText({ kind: 'edgecam', ...device }));
  const resolveHost = o.resolveHost ?? lanResolver;
  const stallTimeoutMs = o.tuning?.stallTimeoutMs ?? 10_000;
  const pingEveryMs = Math.max(250, Math.floor(stallTimeoutMs / 3));
  const stamper = new FrameStamper();
  const log = o.logger.child({ source: spec });

  /** One connection's events; errors with the reason when it fails or ends. */
  const connectOnce = (): Observable<LinkEvent> =>
    new Observable<LinkEvent>((run) => {
      let socket: Socket | undefined;
      let pinger: NodeJS.Timeout | undefined;
      let done = false;
      /** Connected, and over TLS the certificate checked. */
      let up = false;
      const fail = (err: Error): void => run.error(err);
      const start = (to: Endpoint): void => {
        const address = hostPortText(to.host, to.port);
        const decoder = new ServerMessageDecoder({ maxFrameBytes: o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES });
        let welcomed = false;
        let lost = false;
        const onMessage = (s: Socket, m: ServerMessage): void => {
          switch (m.type) {
            case 'welcome': {
              if (welcomed) return;
              welcomed = true;
              const w = m.welcome;
              log.info({ address, server: peerText(`${w.server} ${w.version}`), camera: w.camera === undefined ? null : peerText(w.camera), cameras: w.cameras?.map((c) => peerText(c)) }, 'device connected');
              s.write(encodeCommandMessage(Command.STREAM));
              pinger = setInterval(() => s.write(encodePing(randomBytes(8))), pingEveryMs);
              if (w.source?.error !== undefined) {
                lost = true;
                run.next({ type: 'lost', reason: `the device's camera is unavailable: ${peerText(w.source.error, 200)}` });
              }
              run.next({ type: 'alive' });
              return;
            }
            case 'frame': {
              // The device's capture time, kept: only a clock going backwards is nudged forward.
              const frame = stamper.stamp(m.jpeg, m.captureTimeUs);
              if (!frame) {
                log.debug({ invalid: stamper.invalid }, 'skipped a frame that is not a JPEG');
                run.next({ type: 'alive' });
                return;
              }
              lost = false;
              run.next({ type: 'frame', frame });
              return;
            }
            case 'error':
              if (isFatalErrorCode(m.error.code)) {
                fail(refusal(m.error, device));
              } else if (!lost) {
                lost = true;
                run.next({ type: 'lost', reason: `the device's camera is unavailable: ${peerText(m.error.message, 200)}` });
              }
              return;
            case 'pong':
              run.next({ type: 'alive' });
              return;
            case 'event':
              return;
          }
        };
        socket = dial(to, device.tls ? { servername: device.host, fingerprint: device.fingerprint } : null, {
          fail,
          ready: (s) => {
            up = true;
            s.on('data', (chunk: Buffer) => {
              if (run.closed) return;
              try {
                decoder.push(chunk, (m) => onMessage(s, m));
              } catch (err) {
                fail(err instanceof ProtocolError ? notV2(address, welcomed ? null : chunk.subarray(0, 48), err) : (err as Error));
              }
            });
            s.once('end', () =>
              fail(
                welcomed
                  ? new Error(`${address} closed the connection`)
                  : new Error(`${address} closed the connection before answering (is it an edgecam-server's TCP port?${device.tls ? '' : ' one that serves TLS needs edgecams://'})`),
              ),
            );
            s.write(Buffer.concat([V2_MAGIC, encodeHello({ client: `edgecam-server/${VERSION} gateway`, ...(device.token !== null ? { token: device.token } : {}), ...(device.camera !== null ? { camera: device.camera } : {}) })]));
          },
        });
      };
      void resolveHost(device.host, device.port).then(
        (to) => {
          if (!done) start(to);
        },
        (err: unknown) => fail(new Error(`could not find ${hostPortText(device.host, device.port)}: ${(err as Error).message}`)),
      );
      return () => {
        done = true;
        clearInterval(pinger);
        const s = socket;
        if (!s || s.destroyed) return;
        if (!up) {
          s.destroy();
          return;
        }
        // A FIN the device reads as goodbye; destroyed anyway if it does not answer with its own.
        s.end();
        setTimeout(() => s.destroy(), 1000).unref();
      };
    });

  const capture = (): Observable<SourceEvent> =>
    supervisedCapture({
      connect: connectOnce,
      stalled: (silentS, sawAnything) =>
        sawAnything
          ? new Error(`nothing from the device for ${silentS} s`)
          : new Error(
              `no answer from ${hostPortText(device.host, device.port)} within ${silentS} s of connecting (is it an edgecam-server's TCP port?${device.tls ? ' if it serves no TLS, write edgecam:// instead of edgecams://' : ''})`,
            ),
      log,
      tuning: o.tuning,
    });

  return {
    kind: 'edgecam',
    spec,
    width: o.width,
    height: o.height,
    fps: o.fps,
    capture,
    // A closing connection is ended and destroyed within a second; nothing waits on it.
    settled: async () => {},
  };
}
