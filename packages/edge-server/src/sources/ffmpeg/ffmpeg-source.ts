// A source backed by a supervised ffmpeg that writes mpjpeg on stdout (testsrc, v4l2, file).
// A frame's way from ffmpeg to a client's socket:
//   ffmpeg stdout chunks (FfmpegSupervisor.runs$, one stream per run)
//   -> splitMpjpeg(): whole JPEGs with their arrival time (split-frames.ts)
//   -> stampFrames(): CapturedFrame {seq, captureTimeUs} (source.ts)
//   -> SourceEvent 'frame' -> SharedFrameHub.frames$ (frame-hub.ts)
//   -> ClientSession per client (tcp/client-session.ts) -> its socket (tcp/socket-transport.ts)
import { EMPTY, Observable, catchError, switchMap } from 'rxjs';
import type { Logger } from 'pino';
import type { CapturedFrame } from '@edgecam/protocol';
import type { SourceKind } from '../../contracts.js';
import type { ResolvedFfmpeg } from './resolve-ffmpeg.js';
import { FfmpegSupervisor, type FfmpegSupervisorOptions } from './ffmpeg-supervisor.js';
import { splitMpjpeg } from '../split-frames.js';
import { FrameStamper, stampFrames, type FrameSource, type SourceEvent } from '../source.js';

/** The supervisor settings tests and benchmarks may change. */
export type SupervisorTuning = Partial<
  Pick<FfmpegSupervisorOptions, 'initialBackoffMs' | 'maxBackoffMs' | 'stableAfterMs' | 'killGraceMs' | 'stallTimeoutMs'>
>;

/** Options of createFfmpegSource. */
export interface FfmpegSourceOptions {
  kind: SourceKind;
  spec: string;
  width: number;
  height: number;
  fps: number;
  ffmpeg: ResolvedFfmpeg;
  logger: Logger;
  /** The command line for one run; asked again before each restart. */
  args: () => string[] | Promise<string[]>;
  supervisor?: SupervisorTuning;
}

/** A source whose every capture runs one supervised ffmpeg. */
export function createFfmpegSource(o: FfmpegSourceOptions): FrameSource {
  const stamper = new FrameStamper();
  const stopping = new Set<Promise<void>>();
  const log = o.logger.child({ source: o.spec });

  const capture = (): Observable<SourceEvent> =>
    new Observable<SourceEvent>((sub) => {
      let flowing = false;
      const onFrame = (frame: CapturedFrame): void => {
        if (!flowing) {
          flowing = true;
          sub.next({ type: 'state', state: 'running' });
        }
        sub.next({ type: 'frame', frame });
      };
      const onInvalid = (): void => log.debug({ invalid: stamper.invalid }, 'skipped a part that is not a JPEG');
      sub.next({ type: 'state', state: 'starting' });
      const supervisor: FfmpegSupervisor = new FfmpegSupervisor({
        ...o.supervisor,
        ffmpeg: o.ffmpeg,
        args: o.args,
        logger: log,
        onExit: (exit) => {
          flowing = false;
          sub.next({ type: 'state', state: 'restarting', error: exit.reason });
        },
        onRestart: () => {
          sub.next({ type: 'restart' });
          sub.next({ type: 'state', state: 'starting' });
        },
      });
      // Each run parses from a clean state.
      const frames = supervisor.runs$
        .pipe(
          switchMap((run) => {
            flowing = false;
            return run.output$.pipe(
              splitMpjpeg(),
              stampFrames(stamper, onInvalid),
              catchError((err: Error) => {
                // ffmpeg's output stopped making sense: start it over rather than guess.
                supervisor.fail(err.message);
                return EMPTY;
              }),
            );
          }),
        )
        .subscribe(onFrame);
      supervisor.start();
      return () => {
        frames.unsubscribe();
        const stopped = supervisor.stop().finally(() => stopping.delete(stopped));
        stopping.add(stopped);
      };
    });

  return {
    kind: o.kind,
    spec: o.spec,
    width: o.width,
    height: o.height,
    fps: o.fps,
    capture,
    settled: async () => {
      await Promise.all([...stopping]);
    },
  };
}
