import type { Logger } from 'pino';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { readJpegInfo, type CapturedFrame, type Welcome } from '@edgecam/protocol';
import type { ConnectOptions, ServerConnection, WireProtocol } from './connection.js';
import { frameTimeout } from './frame-timeout.js';
import { connect } from './negotiate.js';
import { reconnect$ } from './reconnect.js';
import { CliError, ExitCode, errorText } from './errors.js';
import { RecordStats } from './record-stats.js';
import { serverName, visibleText } from './peer-text.js';

export interface RelayStatus {
  upstream: string;
  connected: boolean;
  protocol: WireProtocol | null;
  server: string | null;
  frames: number;
  fps: number;
  kbitPerSecond: number;
  width: number | null;
  height: number | null;
  reconnects: number;
  lastError: string | null;
  /** The server's word that its camera is down (v2), until frames come again. */
  cameraDown: string | null;
}

/**
 * Keeps one stream from the server running for every local viewer: connects, sends `3`, and
 * republishes each frame; when the connection is lost (or no frame comes within the timeout) it
 * reconnects with backoff. The first connection must succeed, so a wrong address fails at once.
 */
export class StreamRelay {
  private readonly subject = new Subject<CapturedFrame>();
  readonly frames$: Observable<CapturedFrame> = this.subject.asObservable();
  private latestFrame: CapturedFrame | undefined;
  private size: { width: number; height: number } | undefined;
  private stats = new RecordStats();
  private conn: ServerConnection | undefined;
  private welcome: Welcome | undefined;
  private stopped = false;
  private reconnects = 0;
  private lastError: string | null = null;
  private retry: Subscription | undefined;

  constructor(
    private readonly opts: ConnectOptions,
    private readonly timeoutMs: number,
    private readonly upstream: string,
    private readonly log: Logger,
  ) {}

  latest(): CapturedFrame | undefined {
    return this.latestFrame;
  }

  /** The WELCOME of the current (or last) v2 connection. */
  lastWelcome(): Welcome | undefined {
    return this.welcome;
  }

  /** Connects for the first time; throws when that fails. */
  async start(): Promise<void> {
    this.attach(await connect(this.opts));
  }

  status(): RelayStatus {
    const s = this.stats.snapshot();
    return {
      upstream: this.upstream,
      connected: this.conn !== undefined,
      protocol: this.conn?.protocol ?? null,
      server: this.welcome !== undefined ? serverName(this.welcome) : null,
      frames: s.frames,
      fps: Math.round(s.fps * 10) / 10,
      kbitPerSecond: Math.round(s.kbitPerSecond),
      width: this.size?.width ?? null,
      height: this.size?.height ?? null,
      reconnects: this.reconnects,
      lastError: this.lastError !== null ? visibleText(this.lastError) : null,
      cameraDown: this.conn?.sourceDown ?? null,
    };
  }

  private attach(conn: ServerConnection): void {
    this.conn = conn;
    this.welcome = conn.welcome;
    this.stats.resetSequence();
    conn.frames$.pipe(frameTimeout(this.timeoutMs, this.timeoutMs, conn)).subscribe({
      next: (f) => {
        this.latestFrame = f;
        this.stats.frame(f, conn.protocol === 'v2');
        try {
          const { width, height } = readJpegInfo(f.jpeg);
          this.size = { width, height };
        } catch {
          // Not a JPEG we can size: still relayed, the browser decides.
        }
        this.subject.next(f);
      },
      error: (err: unknown) => this.lost(conn, err),
      complete: () => this.lost(conn, new CliError(ExitCode.CONNECTION, 'the connection was closed')),
    });
    conn.command('3').catch((err: unknown) => this.lost(conn, err));
  }

  private lost(conn: ServerConnection, err: unknown): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    void conn.close();
    if (this.stopped) return;
    this.lastError = errorText(err);
    this.log.warn({ reason: this.lastError }, 'lost the stream; reconnecting');
    this.retry = reconnect$(this.opts, (e) => (this.lastError = errorText(e))).subscribe((next) => {
      this.reconnects++;
      this.log.warn({ protocol: next.protocol }, 'stream back');
      this.attach(next);
    });
  }

  /** Stops the stream (`q`) and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retry?.unsubscribe();
    this.subject.complete();
    const conn = this.conn;
    this.conn = undefined;
    if (conn !== undefined) {
      await conn.command('q').catch(() => undefined);
      await conn.close();
    }
  }
}
