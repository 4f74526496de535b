import type { Logger } from 'pino';
import { firstValueFrom, from, takeUntil, type Observable } from 'rxjs';
import type { ConnectOptions, ServerConnection, WireProtocol } from './connection.js';
import { frameTimeout, timeBudget } from './frame-timeout.js';
import { CliError, ExitCode, asCliError, errorText } from './errors.js';
import { aborted } from './interrupt.js';
import { connection$, reconnect$ } from './reconnect.js';
import { RecordStats, type StatsSnapshot } from './record-stats.js';
import { Recording, type RecordingOptions, type RecordingOutcome } from './recording.js';

/** A stream that starts with this many frames the recorder refuses, and none it takes, is not a camera's. */
const NOT_JPEG_LIMIT = 30;

export type StopReason = 'frames' | 'duration' | 'signal' | 'error';

export interface RecordSessionOptions {
  connect: ConnectOptions;
  /** No frame for this long ends the session (or starts a reconnect). */
  timeoutMs: number;
  maxFrames?: number | undefined;
  /** Counted from the first frame. */
  durationMs?: number | undefined;
  /** Keep recording across lost connections, retrying with backoff. */
  reconnect: boolean;
  /** Where and how to record; a session without frames leaves no file. */
  recording: RecordingOptions;
  /** Ctrl-C / SIGTERM: stop as if a limit was reached. */
  signal: AbortSignal;
  log: Logger;
}

export interface RecordResult {
  stoppedBy: StopReason;
  /** Set when stoppedBy is 'error': what ended the recording. */
  error: CliError | undefined;
  /** Undefined when no frame arrived (no file was made). */
  outcome: RecordingOutcome | undefined;
  stats: StatsSnapshot;
  protocol: WireProtocol | undefined;
  reconnects: number;
}

/**
 * Streams frames (`3`) from the server into a recording until a limit, the signal or an error,
 * then stops the stream (`q`), closes the connection and closes the file with its index. The
 * first connection's failure is thrown as is; later failures end the recording with what it has.
 */
export class RecordSession {
  readonly stats = new RecordStats();
  private readonly recording: Recording;
  private readonly stop = new AbortController();
  private readonly stopped$ = from(aborted(this.stop.signal));
  private stopReason: StopReason | undefined;
  private durationTimer: NodeJS.Timeout | undefined;
  private reconnects = 0;
  private protocol: WireProtocol | undefined;
  /** The connection frames come from now, which the recorder's backpressure pauses. */
  private current: ServerConnection | undefined;
  private full = false;

  constructor(private readonly opts: RecordSessionOptions) {
    this.recording = new Recording(
      opts.recording,
      this.stats,
      () => this.requestStop('error'),
      (full) => {
        // The disk is behind: stop reading, so the server's newest-frame-wins drops at the source.
        this.full = full;
        if (full) this.current?.pause();
        else this.current?.resume();
      },
    );
  }

  /** Bytes in the output so far (0 before the first frame). */
  fileBytes(): number {
    return this.recording.bytes();
  }

  async run(): Promise<RecordResult> {
    const { opts } = this;
    const onSignal = () => this.requestStop('signal');
    if (opts.signal.aborted) this.requestStop('signal');
    opts.signal.addEventListener('abort', onSignal);
    let error: CliError | undefined;
    // The first frame is due within --timeout of the start, connecting included; after that,
    // each frame within --timeout of the one before (and of a reconnect).
    const left = timeBudget(opts.timeoutMs);
    try {
      let conn = await this.untilStopped(connection$(opts.connect));
      for (let first = true; conn !== undefined; first = false) {
        this.protocol = conn.protocol;
        const failure = await this.stream(conn, first ? left() : opts.timeoutMs);
        if (failure === undefined) break;
        if (!opts.reconnect || this.stop.signal.aborted || failure.exitCode === ExitCode.FILE) {
          error = failure;
          break;
        }
        conn = await this.reconnect(failure);
      }
    } catch (err) {
      // Only the first connect throws here: nothing was recorded, so there is nothing to save.
      if (!this.stats.started) throw err;
      error = asCliError(err);
    } finally {
      opts.signal.removeEventListener('abort', onSignal);
      clearTimeout(this.durationTimer);
    }

    const outcome = await this.recording.close();
    error ??= this.recording.failure;
    // Frames came, but none was a JPEG: that is the server's doing, whatever ended the wait.
    if ((outcome === undefined || outcome.frames === 0) && this.stats.rejected > 0 && error?.exitCode !== ExitCode.FILE) {
      if (error !== undefined || this.stopReason !== 'signal') error = this.notJpegError();
    }
    return {
      stoppedBy: error !== undefined ? 'error' : (this.stopReason ?? 'signal'),
      error,
      outcome,
      stats: this.stats.snapshot(true),
      protocol: this.protocol,
      reconnects: this.reconnects,
    };
  }

  private notJpegError(): CliError {
    const n = this.stats.rejected;
    return new CliError(
      ExitCode.PROTOCOL,
      `the server sent ${n} ${n === 1 ? 'frame' : 'frames'}, none of them a JPEG the recorder could take (${this.recording.firstRefusal ?? 'refused'}); nothing was saved`,
    );
  }

  private requestStop(reason: StopReason): void {
    if (this.stop.signal.aborted) return;
    this.stopReason = reason;
    this.stop.abort();
  }

  /** One connection's share of the recording. Resolves with the failure that ended it, if any. */
  private stream(conn: ServerConnection, firstWaitMs: number): Promise<CliError | undefined> {
    const sequenced = conn.protocol === 'v2';
    this.stats.resetSequence();
    this.current = conn;
    if (this.full) conn.pause();
    return new Promise((resolve) => {
      let done = false;
      const finish = async (failure: CliError | undefined) => {
        if (done) return;
        done = true;
        this.stop.signal.removeEventListener('abort', onStop);
        sub.unsubscribe();
        // Leave the server as we found it: stop the stream, then a plain close (never `2`).
        if (failure === undefined) await conn.command('q').catch(() => undefined);
        // After a failure there is nothing left for the server to read: no need to wait long.
        await conn.close(failure === undefined ? 1000 : 100);
        resolve(failure);
      };
      const onStop = () => void finish(undefined);

      const sub = conn.frames$.pipe(frameTimeout(this.opts.timeoutMs, firstWaitMs, conn)).subscribe({
        next: (f) => {
          if (done || this.stop.signal.aborted) return;
          if (!this.stats.started && this.opts.durationMs !== undefined) {
            this.durationTimer = setTimeout(() => this.requestStop('duration'), this.opts.durationMs);
          }
          this.stats.frame(f, sequenced);
          this.recording.push(f);
          // --frames N means N frames in the file: refused frames do not count.
          if (this.opts.maxFrames !== undefined && this.recording.accepted() >= this.opts.maxFrames) this.requestStop('frames');
          else if (this.recording.accepted() === 0 && this.stats.rejected >= NOT_JPEG_LIMIT) void finish(this.notJpegError());
        },
        error: (err: unknown) => void finish(asCliError(err)),
        complete: () => void finish(new CliError(ExitCode.CONNECTION, 'the connection was closed')),
      });
      if (this.stop.signal.aborted) {
        void finish(undefined);
        return;
      }
      this.stop.signal.addEventListener('abort', onStop);
      conn.command('3').catch((err: unknown) => void finish(err as CliError));
    });
  }

  /** Retries with doubling backoff until connected or stopped; logs the gap. */
  private async reconnect(failure: CliError): Promise<ServerConnection | undefined> {
    const lostAt = Date.now();
    const { log } = this.opts;
    log.warn({ reason: failure.message }, 'connection lost; reconnecting');
    const conn = await this.untilStopped(
      reconnect$(this.opts.connect, (err, retryInMs) => log.info({ reason: errorText(err), retryInMs }, 'reconnect failed')),
    );
    if (conn !== undefined) {
      this.reconnects++;
      log.warn({ gapMs: Date.now() - lostAt, protocol: conn.protocol }, `reconnected after a gap of ${((Date.now() - lostAt) / 1000).toFixed(1)} s`);
    }
    return conn;
  }

  /** The connection, or undefined as soon as the session is stopped (a later one is closed). */
  private untilStopped(conn$: Observable<ServerConnection>): Promise<ServerConnection | undefined> {
    return firstValueFrom(conn$.pipe(takeUntil(this.stopped$)), { defaultValue: undefined });
  }
}
