// A supervised ffmpeg fed inputs on stdin (camera JPEGs to encode or shrink, H.264 to publish)
// with a cap on what is in flight: an input it is not ready for is dropped and counted, never
// queued, since each one waiting in the pipe is a frame time of latency. Inputs go straight into
// the running child's stdin; between children (starting, restarting) they are dropped, and each
// child starts from a clean state: nothing in flight, nothing left over from the last one.
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { Subject, type Observable } from 'rxjs';
import { FfmpegSupervisor, type FfmpegExit, type FfmpegSupervisorOptions } from './ffmpeg-supervisor.js';
import type { ResolvedFfmpeg } from './resolve-ffmpeg.js';

/** Options of FfmpegStage. */
export interface FfmpegStageOptions
  extends Pick<FfmpegSupervisorOptions, 'initialBackoffMs' | 'maxBackoffMs' | 'stallTimeoutMs' | 'onExit'> {
  ffmpeg: ResolvedFfmpeg;
  logger: Logger;
  /** The command line for one run; asked again before each restart. */
  args: () => string[] | Promise<string[]>;
  /** Inputs whose output has not come out yet (see take()); with this many, write() drops. Default: not counted. */
  maxInFlight?: number;
  /** Bytes written and not yet taken by ffmpeg; past this, write() drops. Default: no limit. */
  maxQueuedBytes?: number;
  /** Written to each child's stdin before its first input. */
  preamble?: Buffer;
  /** An input in flight this long means ffmpeg hangs: it is killed and restarted. Default: never. */
  outputStallMs?: number;
  /** How many of the newest inputs ffmpeg holds back by design, not counted for outputStallMs. Default 0. */
  heldBack?: number;
}

/** A supervised ffmpeg taking inputs on stdin, each with a tag T given back by take() when its output is out. */
export class FfmpegStage<T = undefined> {
  private readonly opts: FfmpegStageOptions;
  private readonly supervisor: FfmpegSupervisor;
  private readonly outputs = new Subject<Observable<Buffer>>();
  /** The running child's stdin; null between children. */
  private input: Writable | null = null;
  private readonly inFlight: Array<{ tag: T; at: number }> = [];
  /** Inputs not given to ffmpeg: none ran, or it was behind. */
  dropped = 0;

  /** Hot: each child's stdout as it starts (subscribe before start()); completes when the child is gone. */
  readonly runs$: Observable<Observable<Buffer>> = this.outputs.asObservable();

  constructor(opts: FfmpegStageOptions) {
    this.opts = opts;
    this.supervisor = new FfmpegSupervisor({
      ffmpeg: opts.ffmpeg,
      args: opts.args,
      logger: opts.logger,
      stdin: true,
      initialBackoffMs: opts.initialBackoffMs,
      maxBackoffMs: opts.maxBackoffMs,
      stallTimeoutMs: opts.stallTimeoutMs,
      onExit: (exit: FfmpegExit) => {
        this.input = null;
        opts.onExit?.(exit);
      },
    });
    this.supervisor.runs$.subscribe((run) => {
      this.inFlight.length = 0;
      this.input = run.input;
      if (opts.preamble) run.input?.write(opts.preamble);
      this.outputs.next(run.output$);
    });
  }

  /** ffmpeg's pid while a child runs. */
  get pid(): number | undefined {
    return this.supervisor.pid;
  }

  /** Restarts after a death so far. */
  get restarts(): number {
    return this.supervisor.restarts;
  }

  /** A child runs and takes inputs. */
  get running(): boolean {
    return this.input !== null;
  }

  /** Whether write() would take an input now. */
  get ready(): boolean {
    const input = this.input;
    if (input === null) return false;
    if (this.opts.maxInFlight !== undefined && this.inFlight.length >= this.opts.maxInFlight) return false;
    return this.opts.maxQueuedBytes === undefined || input.writableLength <= this.opts.maxQueuedBytes;
  }

  /** Starts the first child. */
  start(): void {
    this.supervisor.start();
  }

  /** Ends the input (ffmpeg blocked on a read of stdin may ignore SIGTERM), then kills ffmpeg; resolves once it has exited. */
  async stop(): Promise<void> {
    const input = this.input;
    this.input = null;
    input?.end();
    await this.supervisor.stop();
  }

  /** Kills the running child as a failure (a bad output, a changed input): the usual restart follows. */
  fail(reason: string): void {
    this.supervisor.fail(reason);
  }

  /** Gives ffmpeg one input, its pieces written in order; false (counted in dropped) when none runs or it is behind. */
  write(pieces: readonly Buffer[], tag: T): boolean {
    const stallMs = this.opts.outputStallMs;
    if (stallMs !== undefined) {
      const waiting = this.inFlight[this.opts.heldBack ?? 0];
      if (waiting && performance.now() - waiting.at > stallMs) this.fail(`no picture from ffmpeg for ${stallMs / 1000} s`);
    }
    if (!this.ready) {
      this.dropped++;
      return false;
    }
    if (this.opts.maxInFlight !== undefined) this.inFlight.push({ tag, at: performance.now() });
    for (const piece of pieces) this.input!.write(piece);
    return true;
  }

  /** The tag of the oldest input in flight, now that its output is out; undefined when none is known (written before a restart). */
  take(): T | undefined {
    return this.inFlight.shift()?.tag;
  }
}
