// ffmpeg as a supervised child: started on demand, its stderr kept in the log at debug level,
// restarted with backoff (1 s doubling to 30 s) when it dies or stops writing (a camera that was
// unplugged can leave ffmpeg blocked on a read forever), and killed (SIGTERM, then SIGKILL after
// a grace period) when stopped. Every live child is also killed when this process exits,
// whatever the reason, so an edge device never collects orphaned encoders; on Linux the kernel
// kills it even when this process is SIGKILLed (die-with-parent.ts).
//
// Each child's stdout comes out of runs$ as an Observable of its own, so a consumer parses every
// run from a clean state: `runs$.pipe(switchMap((run) => run.output$.pipe(decoder())))`.
// Each run is an Observable that errors when the child dies; retryWithBackoff resubscribes, and a
// run that lived stableAfterMs emits once, so the next failure waits initialBackoffMs again.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { Observable, Subject, defer, type Subscription } from 'rxjs';
import { fromReadable } from '@edgecam/runtime/rx';
import { failWhenSilent, restartWithBackoff } from '../restart-with-backoff.js';
import { dieWithParent } from './die-with-parent.js';
import type { ResolvedFfmpeg } from './resolve-ffmpeg.js';
import { maskUrlPasswords } from '../url-credentials.js';

export { restartWithBackoff, type RestartPolicy } from '../restart-with-backoff.js';

/** How a child ended, for onExit. */
export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** One line for logs and /status: exit status and ffmpeg's last stderr line. */
  reason: string;
  /** When the next start is due. */
  restartInMs: number;
}

/** One child, as runs$ gives it out when it has started. */
export interface FfmpegRun {
  /** The child's stdout; completes when the child is gone (or being stopped). */
  readonly output$: Observable<Buffer>;
  /** The child's stdin with options.stdin, else null. Errors on it (EPIPE once it died) are ignored. */
  readonly input: Writable | null;
}

/** Options of FfmpegSupervisor. */
export interface FfmpegSupervisorOptions {
  ffmpeg: ResolvedFfmpeg;
  /** Arguments for one run; asked again before every restart (a v4l2 source probes the camera each time). */
  args: () => string[] | Promise<string[]>;
  logger: Logger;
  /** Each child gets a stdin pipe (FfmpegRun.input); children get no stdin otherwise. */
  stdin?: boolean;
  onExit?: (exit: FfmpegExit) => void;
  /** A restart after a failure is launching now. */
  onRestart?: (restarts: number) => void;
  /** The first restart delay; it doubles after each failure. Default 1000 ms. */
  initialBackoffMs?: number;
  /** The longest restart delay. Default 30000 ms. */
  maxBackoffMs?: number;
  /** A child that ran this long before dying counts as healthy: the backoff starts over. Default 10 s. */
  stableAfterMs?: number;
  /** How long a child may take to exit after SIGTERM before it gets SIGKILL. Default 2000 ms. */
  killGraceMs?: number;
  /** A child that writes nothing on stdout this long is killed and restarted; 0: never. Default 10 s. */
  stallTimeoutMs?: number;
}

// Children alive in this process, for the exit hook. Process groups are killed, not just the
// pid, so a wrapper script (or a fake ffmpeg in tests) cannot leave its own children behind.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (process.platform !== 'win32') process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function track(child: ChildProcess): void {
  liveChildren.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // 'exit' handlers must be synchronous: SIGKILL is the only thing that surely lands in time.
    process.on('exit', () => {
      for (const c of liveChildren) killGroup(c, 'SIGKILL');
    });
  }
}

/** Pids of the ffmpeg children this process runs right now (diagnostics and tests). */
export function liveFfmpegPids(): number[] {
  return [...liveChildren].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
}

const STDERR_TAIL_LINES = 8;

interface Run {
  child: ChildProcess;
  gone: Promise<void>;
  /** Set when we killed it on purpose: its exit is not a failure and starts no restart. */
  stopping: boolean;
  /** Set when we killed it as a failure (fail()): the reason its exit reports. */
  failedBecause: string | null;
}

/** One run that ended badly: what the restart warning and onExit report. */
class RunFailed extends Error {
  constructor(
    readonly reason: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly ranMs: number,
    readonly stderrTail: string[] = [],
    readonly pid?: number,
    /** Set when the input is not there yet: what the retries wait for. */
    readonly waitingFor?: string,
  ) {
    super(reason);
  }
}

/**
 * Thrown by args() when the input is not there yet (a camera not plugged in): no ffmpeg runs,
 * and the log says what is awaited instead of reporting a failure. Retried like any failure.
 */
export class InputNotReady extends Error {
  /** reason: `/dev/video0 does not exist yet`; waitingFor: `it appears`. */
  constructor(
    readonly reason: string,
    readonly waitingFor: string,
  ) {
    super(reason);
    this.name = 'InputNotReady';
  }
}

/** Runs ffmpeg while started, restarting it with backoff whenever it dies. */
export class FfmpegSupervisor {
  private readonly opts: FfmpegSupervisorOptions;
  private readonly log: Logger;
  private readonly killGraceMs: number;
  private readonly stallTimeoutMs: number;
  private run: Run | null = null;
  /** Arguments being prepared (a probe may be running); stop() waits for it. */
  private preparing: Promise<unknown> | null = null;
  private runs: Subscription | null = null;
  private restartCount = 0;
  private readonly started = new Subject<FfmpegRun>();
  /** Hot: each child as it starts (subscribe before start()). */
  readonly runs$: Observable<FfmpegRun> = this.started.asObservable();

  constructor(opts: FfmpegSupervisorOptions) {
    this.opts = opts;
    this.log = opts.logger;
    this.killGraceMs = opts.killGraceMs ?? 2000;
    this.stallTimeoutMs = opts.stallTimeoutMs ?? 10_000;
  }

  /** Restarts after a death so far (not counting the first start). */
  get restarts(): number {
    return this.restartCount;
  }

  /** The running child's pid. */
  get pid(): number | undefined {
    return this.run?.child.pid;
  }

  /** Starts the first child; each later subscription of the run is a restart. */
  start(): void {
    if (this.runs) return;
    let launches = 0;
    this.runs = defer(() => {
      if (launches++ > 0) {
        this.restartCount++;
        this.opts.onRestart?.(this.restartCount);
      }
      return this.runOnce();
    })
      .pipe(
        restartWithBackoff({
          initialMs: this.opts.initialBackoffMs,
          maxMs: this.opts.maxBackoffMs,
          stableAfterMs: this.opts.stableAfterMs,
          onRetry: (err, delayMs) => this.failed(err as RunFailed, delayMs),
        }),
      )
      .subscribe();
  }

  /** Stops supervising and kills the child; resolves once it has exited. */
  async stop(): Promise<void> {
    const run = this.run;
    this.runs?.unsubscribe();
    this.runs = null;
    // A run may be waiting for its arguments (a probe): let it finish, it spawns nothing now.
    if (this.preparing) await this.preparing.catch(() => {});
    if (run) await run.gone;
  }

  /** Kills the running child as a failure (its output was corrupt): the usual restart follows. */
  fail(reason: string): void {
    const run = this.run;
    if (!run || run.stopping || run.failedBecause !== null) return;
    run.failedBecause = reason;
    this.log.warn({ pid: run.child.pid, reason }, 'killing ffmpeg');
    killGroup(run.child, 'SIGKILL');
  }

  private failed(f: RunFailed, delayMs: number): void {
    if (f.waitingFor !== undefined) {
      this.log.warn({ restartInMs: delayMs }, `${f.reason}; retrying in ${Math.round(delayMs / 100) / 10} s until ${f.waitingFor}`);
      this.opts.onExit?.({ code: null, signal: null, reason: f.reason, restartInMs: delayMs });
      return;
    }
    this.log.warn(
      { pid: f.pid, code: f.code, signal: f.signal, ranMs: f.ranMs, restartInMs: delayMs, stderrTail: f.stderrTail },
      `${f.reason}; restarting in ${delayMs} ms`,
    );
    this.opts.onExit?.({ code: f.code, signal: f.signal, reason: f.reason, restartInMs: delayMs });
  }

  /** One run: its arguments, then the child until it dies (an error with RunFailed). */
  private runOnce(): Observable<never> {
    return new Observable<never>((sub) => {
      let stopped = false;
      let child: Subscription | null = null;
      const preparing = Promise.resolve()
        .then(() => this.opts.args())
        .then(
          (args) => {
            if (stopped) return;
            child = this.spawnChild(args).subscribe(sub);
          },
          (err: unknown) => {
            if (stopped) return;
            if (err instanceof InputNotReady) sub.error(new RunFailed(err.reason, null, null, 0, [], undefined, err.waitingFor));
            else sub.error(new RunFailed(`could not prepare ffmpeg arguments: ${(err as Error).message}`, null, null, 0));
          },
        )
        .finally(() => {
          if (this.preparing === preparing) this.preparing = null;
        });
      this.preparing = preparing;
      return () => {
        stopped = true;
        child?.unsubscribe();
      };
    });
  }

  /** Spawns one child; errors when it exits, and kills it (SIGTERM, then SIGKILL) on unsubscribe. */
  private spawnChild(args: string[]): Observable<never> {
    return new Observable<never>((sub) => {
      const { ffmpeg } = this.opts;
      const startedAt = Date.now();
      const launch = dieWithParent(ffmpeg.path, args);
      const child = spawn(launch.command, launch.args, {
        stdio: [this.opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
      });
      track(child);
      let resolveGone!: () => void;
      const run: Run = {
        child,
        gone: new Promise((r) => (resolveGone = r)),
        stopping: false,
        failedBecause: null,
      };
      this.run = run;

      const tail: string[] = [];
      let spawnError: Error | null = null;
      child.on('error', (err) => (spawnError = err));
      // ffmpeg closing its stdin early (it died) must not crash us with EPIPE.
      child.stdin?.on('error', () => {});
      const output = new Subject<Buffer>();
      let reading: Subscription | null = null;
      if (child.pid !== undefined) {
        this.log.info({ pid: child.pid, ffmpeg: ffmpeg.path, via: ffmpeg.via, args: args.map(maskUrlPasswords), diesWithServer: launch.guarded }, 'ffmpeg started');
        reading = fromReadable(child.stdout!)
          .pipe(failWhenSilent(this.stallTimeoutMs, (silentS) => new Error(`no output from ffmpeg for ${silentS} s`)))
          .subscribe({
            next: (chunk) => {
              if (!run.stopping) output.next(chunk);
            },
            error: (err: Error) => this.fail(err.message),
            complete: () => output.complete(),
          });
        this.started.next({ output$: output.asObservable(), input: child.stdin ?? null });
      }
      let partial = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        const lines = (partial + text).split(/\r?\n|\r/);
        partial = (lines.pop() ?? '').slice(-4096);
        for (const raw of lines) {
          if (!raw.trim()) continue;
          // ffmpeg names its input, password and all (`Input #0, rtsp, from 'rtsp://…'`).
          const line = maskUrlPasswords(raw);
          this.log.debug({ pid: child.pid, stderr: line }, 'ffmpeg');
          tail.push(line);
          if (tail.length > STDERR_TAIL_LINES) tail.shift();
        }
      });
      child.on('close', (code, signal) => {
        liveChildren.delete(child);
        reading?.unsubscribe();
        output.complete();
        if (this.run === run) this.run = null;
        resolveGone();
        if (run.stopping) {
          this.log.info({ pid: child.pid, code, signal }, 'ffmpeg stopped');
          return;
        }
        if (partial.trim()) tail.push(maskUrlPasswords(partial.trim()));
        const last = tail.at(-1);
        const failure = spawnError as Error | null;
        const status = failure
          ? `could not run ${ffmpeg.path}: ${failure.message}`
          : run.failedBecause !== null
            ? `${run.failedBecause}; ffmpeg killed`
            : signal
              ? `ffmpeg killed by ${signal}`
              : `ffmpeg exited with code ${code}`;
        const reason = last && !failure ? `${status}: ${last}` : status;
        sub.error(new RunFailed(reason, code, signal, Date.now() - startedAt, tail.slice(), child.pid));
      });

      return () => {
        reading?.unsubscribe();
        output.complete();
        if (child.exitCode !== null || child.signalCode !== null || this.run !== run) return;
        run.stopping = true;
        killGroup(child, 'SIGTERM');
        const force = setTimeout(() => {
          this.log.warn({ pid: child.pid, graceMs: this.killGraceMs }, 'ffmpeg ignored SIGTERM; sending SIGKILL');
          killGroup(child, 'SIGKILL');
        }, this.killGraceMs);
        void run.gone.then(() => clearTimeout(force));
      };
    });
  }
}
