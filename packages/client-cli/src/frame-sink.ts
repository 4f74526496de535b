import type { CapturedFrame } from '@edgecam/protocol';
import { CliError, ExitCode, errorText } from './errors.js';
import type { RecordStats } from './record-stats.js';
import type { RecordingOutcome, RecordingTarget } from './recording-target.js';

/** Frames waiting for the writer, past which new ones are dropped (and counted). */
export const MAX_QUEUED_FRAMES = 64;

/**
 * Feeds frames from the network, as they come, into a recording that writes one at a time. The
 * output is opened with the first frame, so no frame means no file. Memory stays bounded: when
 * the disk falls MAX_QUEUED_FRAMES behind, new frames are dropped and counted in `stats.dropped`.
 */
export class FrameSink {
  private target: RecordingTarget | undefined;
  private readonly queue: CapturedFrame[] = [];
  private writing: Promise<void> | undefined;
  /** Set when the recording could not be written: nothing more is accepted. */
  failure: CliError | undefined;

  constructor(
    private readonly openTarget: () => RecordingTarget,
    private readonly stats: RecordStats,
    /** Called once when writing fails, so the caller can stop the stream. */
    private readonly onFailure: (err: CliError) => void,
  ) {}

  /** Bytes in the output so far. */
  bytes(): number {
    return this.target?.bytes() ?? 0;
  }

  push(f: CapturedFrame): void {
    if (this.failure !== undefined) return;
    if (this.queue.length >= MAX_QUEUED_FRAMES) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(f);
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
    });
  }

  /** Writes what is queued, then closes the output. Undefined when no frame ever came. */
  async close(): Promise<RecordingOutcome | undefined> {
    while (this.writing !== undefined) await this.writing;
    if (this.target === undefined) return undefined;
    try {
      const outcome = await this.target.close();
      if (outcome.error !== undefined) this.failure ??= outcome.error;
      return outcome;
    } catch (err) {
      this.failure ??= asCliError(err);
      return undefined;
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && this.failure === undefined) {
      const f = this.queue.shift()!;
      try {
        this.target ??= this.openTarget();
        if (!(await this.target.write(f))) this.stats.rejected++;
      } catch (err) {
        this.failure = asCliError(err);
        this.queue.length = 0;
        this.onFailure(this.failure);
      }
    }
  }
}

function asCliError(err: unknown): CliError {
  return err instanceof CliError ? err : new CliError(ExitCode.FILE, errorText(err), { cause: err });
}
