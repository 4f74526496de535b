// ffmpeg as a supervised child: started on demand, its stderr kept in the log at debug level,
// restarted with backoff (1 s doubling to 30 s) when it dies or stops writing (a camera that was
// unplugged can leave ffmpeg blocked on a read forever), and killed (SIGTERM, then SIGKILL after
// a grace period) when stopped. Every live child is also killed when this process exits,
// whatever the reason, so an edge device never collects orphaned encoders.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ResolvedFfmpeg } from './ffmpeg.js';

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** One line for logs and /status: exit status and ffmpeg's last stderr line. */
  reason: string;
  /** When the next start is due. */
  restartInMs: number;
}

export interface FfmpegSupervisorOptions {
  ffmpeg: ResolvedFfmpeg;
  /** Arguments for one run; asked again before every restart (a v4l2 source probes the camera each time). */
  args: () => string[] | Promise<string[]>;
  logger: Logger;
  onStdout: (chunk: Buffer) => void;
  /** Fed to each child's stdin (the stdin source); children get no stdin otherwise. */
  stdin?: Readable;
  onSpawn?: (pid: number) => void;
  onExit?: (exit: FfmpegExit) => void;
  /** A restart after a failure is launching now. */
  onRestart?: (restarts: number) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A child that ran this long before dying counts as healthy: the backoff starts over. */
  stableAfterMs?: number;
  killGraceMs?: number;
  /** A child that writes nothing on stdout this long is killed and restarted; 0: never. Default 10 s. */
  stallTimeoutMs?: number;
}

/**
 * The restart delay: starts at `initialMs`, doubles after each failure up to `maxMs`, and starts
 * over after a run that lasted `stableAfterMs` (the source worked; this is a new failure).
 */
export class Backoff {
  private delay: number;

  constructor(
    private readonly initialMs = 1000,
    private readonly maxMs = 30_000,
    private readonly stableAfterMs = 10_000,
  ) {
    this.delay = initialMs;
  }

  /** The delay before the next start, after a run that lasted ranMs. */
  next(ranMs: number): number {
    if (ranMs >= this.stableAfterMs) this.delay = this.initialMs;
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, this.maxMs);
    return delay;
  }

  reset(): void {
    this.delay = this.initialMs;
  }
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
  lastOutputAt: number;
}

export class FfmpegSupervisor {
  private readonly opts: FfmpegSupervisorOptions;
  private readonly log: Logger;
  private readonly killGraceMs: number;
  private readonly stallTimeoutMs: number;
  private readonly backoff: Backoff;
  private run: Run | null = null;
  private spawnTask: Promise<void> | null = null;
  private running = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private restartCount = 0;

  constructor(opts: FfmpegSupervisorOptions) {
    this.opts = opts;
    this.log = opts.logger;
    this.backoff = new Backoff(opts.initialBackoffMs, opts.maxBackoffMs, opts.stableAfterMs);
    this.killGraceMs = opts.killGraceMs ?? 2000;
    this.stallTimeoutMs = opts.stallTimeoutMs ?? 10_000;
  }

  /** Restarts after a death so far (not counting the first start). */
  get restarts(): number {
    return this.restartCount;
  }

  get pid(): number | undefined {
    return this.run?.child.pid;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.backoff.reset();
    this.launch();
    this.startStallWatch();
  }

  /** Stops supervising and kills the child; resolves once it has exited. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.stallTimer = null;
    // A spawn may be waiting for its arguments (a probe); it sees running=false and gives up.
    if (this.spawnTask) await this.spawnTask;
    const run = this.run;
    if (!run) return;
    run.stopping = true;
    killGroup(run.child, 'SIGTERM');
    const force = setTimeout(() => {
      this.log.warn({ pid: run.child.pid, graceMs: this.killGraceMs }, 'ffmpeg ignored SIGTERM; sending SIGKILL');
      killGroup(run.child, 'SIGKILL');
    }, this.killGraceMs);
    await run.gone;
    clearTimeout(force);
  }

  /** Kills the running child as a failure (its output was corrupt): the usual restart follows. */
  fail(reason: string): void {
    const run = this.run;
    if (!run || run.stopping || run.failedBecause !== null) return;
    run.failedBecause = reason;
    this.log.warn({ pid: run.child.pid, reason }, 'killing ffmpeg');
    killGroup(run.child, 'SIGKILL');
  }

  /** Checks a few times per stall timeout that the running child still writes. */
  private startStallWatch(): void {
    if (this.stallTimeoutMs <= 0 || this.stallTimer) return;
    this.stallTimer = setInterval(() => {
      const run = this.run;
      if (!run || run.stopping) return;
      const silentMs = performance.now() - run.lastOutputAt;
      if (silentMs >= this.stallTimeoutMs) this.fail(`no output from ffmpeg for ${Math.round(silentMs / 100) / 10} s`);
    }, Math.max(50, Math.min(1000, this.stallTimeoutMs / 4)));
    this.stallTimer.unref();
  }

  private launch(): void {
    const task = this.spawnChild().finally(() => {
      if (this.spawnTask === task) this.spawnTask = null;
    });
    this.spawnTask = task;
  }

  private async spawnChild(): Promise<void> {
    let args: string[];
    try {
      args = await this.opts.args();
    } catch (err) {
      this.scheduleRestart(`could not prepare ffmpeg arguments: ${(err as Error).message}`, null, null, 0);
      return;
    }
    if (!this.running) return;

    const { ffmpeg, stdin } = this.opts;
    const startedAt = Date.now();
    const child = spawn(ffmpeg.path, args, {
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    track(child);
    let resolveGone!: () => void;
    const run: Run = {
      child,
      gone: new Promise((r) => (resolveGone = r)),
      stopping: false,
      failedBecause: null,
      lastOutputAt: performance.now(),
    };
    this.run = run;

    const tail: string[] = [];
    let spawnError: Error | null = null;
    child.on('error', (err) => (spawnError = err));
    if (child.pid !== undefined) {
      this.log.info({ pid: child.pid, ffmpeg: ffmpeg.path, via: ffmpeg.via, args }, 'ffmpeg started');
      this.opts.onSpawn?.(child.pid);
    }

    child.stdout?.on('data', (chunk: Buffer) => {
      run.lastOutputAt = performance.now();
      if (!run.stopping) this.opts.onStdout(chunk);
    });
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      const lines = (partial + text).split(/\r?\n|\r/);
      partial = (lines.pop() ?? '').slice(-4096);
      for (const line of lines) {
        if (!line.trim()) continue;
        this.log.debug({ pid: child.pid, stderr: line }, 'ffmpeg');
        tail.push(line);
        if (tail.length > STDERR_TAIL_LINES) tail.shift();
      }
    });
    if (stdin && child.stdin) {
      // ffmpeg closing its stdin early (it died) must not crash us with EPIPE.
      child.stdin.on('error', () => {});
      stdin.pipe(child.stdin);
    }

    child.on('close', (code, signal) => {
      liveChildren.delete(child);
      if (stdin && child.stdin) stdin.unpipe(child.stdin);
      if (this.run === run) this.run = null;
      resolveGone();
      if (partial.trim()) tail.push(partial.trim());
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
      if (run.stopping || !this.running) {
        this.log.info({ pid: child.pid, code, signal }, 'ffmpeg stopped');
        return;
      }
      this.scheduleRestart(reason, code, signal, Date.now() - startedAt, tail.slice(), child.pid);
    });
  }

  private scheduleRestart(
    reason: string,
    code: number | null,
    signal: NodeJS.Signals | null,
    ranMs: number,
    stderrTail: string[] = [],
    pid?: number,
  ): void {
    if (!this.running) return;
    const delay = this.backoff.next(ranMs);
    this.log.warn({ pid, code, signal, ranMs, restartInMs: delay, stderrTail }, `${reason}; restarting in ${delay} ms`);
    this.opts.onExit?.({ code, signal, reason, restartInMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.running) return;
      this.restartCount++;
      this.opts.onRestart?.(this.restartCount);
      this.launch();
    }, delay);
  }
}
