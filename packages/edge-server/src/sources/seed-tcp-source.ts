// The seed's own camera server as a source (`tcp://HOST:6810`): edgecam as the gateway in front of
// a module that runs the original Python server. Its client, done the way that server needs:
// - one connection, and only while the camera is consumed; no probe connection ever (the server
//   keeps encoding for a connection that has gone);
// - `3` (stream, no acks) once connected, `q` before closing, nothing else: never `2`, which
//   stops the server for every client, and never two commands within commandGapMs of each other,
//   since it reads each recv() as one command and answers `3q` with unframed `Unknown command`;
// - a new connection to a server waits until our previous one to it has sent its `q` and closed:
//   the server has one stream flag for all connections, and a late `q` would clear a new `3`.
// Frames are stamped with their arrival time (the protocol carries none); the hub measures the rate.
// A frame's way: socket chunks -> SeedFrameReader (seed-frames.ts) -> FrameStamper (source.ts)
//   -> supervisedCapture (supervised-capture.ts) -> SourceEvent 'frame' -> SharedFrameHub.frames$
import type { Socket } from 'node:net';
import { Observable } from 'rxjs';
import type { Logger } from 'pino';
import { Command, DEFAULT_MAX_FRAME_BYTES } from '@edgecam/protocol';
import { nowUs } from '@edgecam/runtime';
import { dial } from './dial.js';
import { lanResolver, type Endpoint, type HostResolver } from './host-resolver.js';
import { hostPortText, seedUrlText } from './network-url.js';
import { SeedFrameReader } from './seed-frames.js';
import { FrameStamper, type FrameSource, type SourceEvent } from './source.js';
import { supervisedCapture, type ConnectionTuning, type LinkEvent } from './supervised-capture.js';

/** Options of createSeedTcpSource. */
export interface SeedTcpSourceOptions {
  host: string;
  /** null: 6810, or what the resolver finds. */
  port: number | null;
  width: number;
  height: number;
  fps: number;
  logger: Logger;
  /** Turns host and port into the address dialled, before each connection. Default: lanResolver (mDNS for NAME.local, else the system's resolver). */
  resolveHost?: HostResolver;
  /** Largest JPEG accepted. Default 16 MiB. */
  maxFrameBytes?: number;
  tuning?: ConnectionTuning;
  /** Least time between two commands on one connection. Default 250 ms. */
  commandGapMs?: number;
  /** How long a closing connection may wait for the server to close its side. Default 2000 ms. */
  closeGraceMs?: number;
}

/** Our connections to each server (host:port) still closing: a new one waits for them. */
const closingTo = new Map<string, Set<Promise<void>>>();

function track(key: string, closed: Promise<void>): void {
  const set = closingTo.get(key) ?? new Set<Promise<void>>();
  closingTo.set(key, set);
  set.add(closed);
  void closed.then(() => {
    set.delete(closed);
    if (set.size === 0 && closingTo.get(key) === set) closingTo.delete(key);
  });
}

/** A source reading the seed's camera server. */
export function createSeedTcpSource(o: SeedTcpSourceOptions): FrameSource {
  const spec = seedUrlText({ kind: 'tcp', host: o.host, port: o.port });
  const resolveHost = o.resolveHost ?? lanResolver;
  const gapMs = o.commandGapMs ?? 250;
  const graceMs = o.closeGraceMs ?? 2000;
  const maxFrameBytes = o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const stamper = new FrameStamper();
  const log = o.logger.child({ source: spec });
  /** This source's connections still closing, for settled(). */
  const mine = new Set<Promise<void>>();

  /**
   * Lets go of a connection: `q` once the `3` before it is commandGapMs old, then our FIN, and a
   * destroy if the server has not closed its side within closeGraceMs.
   */
  const release = (key: string, socket: Socket, streamAskedAt: number | null): void => {
    if (socket.destroyed) return;
    if (streamAskedAt === null) {
      socket.destroy();
      return;
    }
    const closed = new Promise<void>((resolve) => {
      const stop = (): void => {
        if (socket.writable) socket.end(Command.STOP);
        else socket.destroy();
      };
      const wait = Math.max(0, streamAskedAt + gapMs - performance.now());
      const later = wait > 0 ? setTimeout(stop, wait) : undefined;
      if (!later) stop();
      const force = setTimeout(() => socket.destroy(), wait + graceMs);
      socket.once('close', () => {
        clearTimeout(later);
        clearTimeout(force);
        resolve();
      });
    });
    mine.add(closed);
    track(key, closed);
    void closed.then(() => mine.delete(closed));
  };

  /** One connection's frames; errors with the reason when it fails or ends. */
  const connectOnce = (): Observable<LinkEvent> =>
    new Observable<LinkEvent>((run) => {
      let socket: Socket | undefined;
      let key = '';
      let streamAskedAt: number | null = null;
      let done = false;
      const fail = (err: Error): void => run.error(err);
      const start = (to: Endpoint): void => {
        const address = hostPortText(to.host, to.port);
        const reader = new SeedFrameReader(maxFrameBytes);
        let framed = false;
        socket = dial(to, null, {
          fail,
          ready: (s) => {
            s.on('data', (chunk: Buffer) => {
              if (run.closed) return;
              const arrivalUs = nowUs();
              try {
                reader.push(chunk, (jpeg) => {
                  const frame = stamper.stamp(jpeg, arrivalUs);
                  if (!frame) return;
                  if (!framed) {
                    framed = true;
                    log.info({ address }, 'camera stream connected');
                  }
                  run.next({ type: 'frame', frame });
                });
              } catch (err) {
                fail(err as Error);
              }
            });
            s.once('end', () => {
              const partial = reader.bufferedBytes;
              fail(new Error(partial > 0 ? `${address} closed the connection in the middle of a frame (${partial} bytes of it had arrived)` : `${address} closed the connection`));
            });
            s.write(Command.STREAM);
            streamAskedAt = performance.now();
            log.debug({ address }, 'asked the camera to stream (3)');
          },
        });
      };
      void resolveHost(o.host, o.port).then(
        async (to) => {
          key = hostPortText(to.host, to.port);
          // Our earlier connection to it has its `q` to send first.
          await Promise.all(closingTo.get(key) ?? []);
          if (!done) start(to);
        },
        (err: unknown) => fail(new Error(`could not find ${hostPortText(o.host, o.port)}: ${(err as Error).message}`)),
      );
      return () => {
        done = true;
        if (socket) release(key, socket, streamAskedAt);
      };
    });

  const capture = (): Observable<SourceEvent> =>
    supervisedCapture({
      connect: connectOnce,
      stalled: (silentS, sawFrame) =>
        sawFrame
          ? new Error(`no frame from the camera for ${silentS} s`)
          : new Error(`no frame from ${hostPortText(o.host, o.port)} within ${silentS} s of connecting (is it the seed's camera server, and is its camera working?)`),
      log,
      tuning: o.tuning,
    });

  return {
    kind: 'tcp',
    spec,
    width: o.width,
    height: o.height,
    fps: o.fps,
    capture,
    settled: async () => {
      await Promise.all([...mine]);
    },
  };
}
