// A source backed by a supervised ffmpeg that writes mpjpeg on stdout (testsrc, v4l2, file).
import { Observable } from 'rxjs';
import type { Logger } from 'pino';
import { nowUs } from '@edgecam/protocol';
import type { SourceKind } from '../../contracts.js';
import type { ResolvedFfmpeg } from './resolve-ffmpeg.js';
import { FfmpegSupervisor, type FfmpegSupervisorOptions } from './ffmpeg-supervisor.js';
import { MpjpegDecoder } from '../mpjpeg-decoder.js';
import { FrameStamper, type FrameSource, type SourceEvent } from '../source.js';

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
      const decoder = new MpjpegDecoder();
      let flowing = false;
      sub.next({ type: 'state', state: 'starting' });
      const supervisor: FfmpegSupervisor = new FfmpegSupervisor({
        ...o.supervisor,
        ffmpeg: o.ffmpeg,
        args: o.args,
        logger: log,
        onSpawn: () => {
          decoder.reset();
          flowing = false;
        },
        onStdout: (chunk) => {
          const arrival = nowUs();
          try {
            decoder.push(chunk, (jpeg) => {
              const frame = stamper.stamp(jpeg, arrival);
              if (!frame) {
                log.debug({ invalid: stamper.invalid }, 'skipped a part that is not a JPEG');
                return;
              }
              if (!flowing) {
                flowing = true;
                sub.next({ type: 'state', state: 'running' });
              }
              sub.next({ type: 'frame', frame });
            });
          } catch (err) {
            // ffmpeg's output stopped making sense: start it over rather than guess.
            supervisor.fail((err as Error).message);
          }
        },
        onExit: (exit) => {
          flowing = false;
          sub.next({ type: 'state', state: 'restarting', error: exit.reason });
        },
        onRestart: () => {
          sub.next({ type: 'restart' });
          sub.next({ type: 'state', state: 'starting' });
        },
      });
      supervisor.start();
      return () => {
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
