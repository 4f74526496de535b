// A camera's H.264 pushed to the engines that fan it out (MediaMTX, go2rtc, Frigate): per target
// one supervised ffmpeg that copies the hub's access units into RTSP, RTMP or SRT. It runs whether
// or not anyone watches edgecam itself, and while a target is down its ffmpeg is restarted with
// the supervisor's backoff. Each (re)started ffmpeg gets units from a keyframe on; one that falls
// behind the camera loses units up to the next keyframe (counted), so its queue stays bounded.
import type { Logger } from 'pino';
import { switchMap } from 'rxjs';
import type { CameraContext } from '../contracts.js';
import type { AccessUnit } from '../h264/access-units.js';
import type { H264Hub, H264Sink } from '../h264/h264-hub.js';
import { FfmpegStage } from '../sources/ffmpeg/ffmpeg-stage.js';
import type { ResolvedFfmpeg } from '../sources/ffmpeg/resolve-ffmpeg.js';
import { peerText } from '../log/peer-text.js';
import { MpegTsPacketizer } from './mpegts-packetizer.js';
import { publishArgs, readProgress } from './publish-args.js';
import { maskedUrl, type PublishTarget } from './publish-config.js';
import { listOutputProtocols, missingProtocol } from './publish-protocols.js';

/** What startPublishing needs besides the camera. */
export interface PublishDeps {
  ffmpeg: ResolvedFfmpeg;
  /** Where publishing logs: the camera's logger (ctx.logger) names the camera on every line. */
  logger: Logger;
  /** First reconnect delay (doubling up to maxBackoffMs); tests shorten it. Default 1000 ms. */
  initialBackoffMs?: number;
  /** Longest reconnect delay. Default 30000 ms. */
  maxBackoffMs?: number;
  /** H.264 bytes that may wait for a target before it skips to the next keyframe. Default 2 MiB. */
  maxQueuedBytes?: number;
}

/**
 * connecting: ffmpeg runs but has not sent a picture yet. publishing: pictures are going out.
 * retrying: the target refused or went away; ffmpeg restarts after a backoff. failed: this ffmpeg
 * cannot reach such a target at all (lastError says why); nothing is retried.
 */
export type PublishState = 'connecting' | 'publishing' | 'retrying' | 'failed';

/** One target as /status shows it. */
export interface PublishTargetStatus {
  /** Password, stream key and SRT secrets masked (maskedUrl). */
  url: string;
  state: PublishState;
  /** H.264 bytes handed to the publisher's ffmpeg. */
  bytes: number;
  /** Pictures handed to the publisher's ffmpeg. */
  frames: number;
  /** Pictures skipped because ffmpeg fell behind (up to the next keyframe each time). */
  skipped: number;
  /** Restarts of ffmpeg after a failure. */
  restarts: number;
  /** Why the last run ended (ffmpeg's last line, control characters made visible), or null. */
  lastError: string | null;
}

/** The publishing of one camera. */
export interface RunningPublishing {
  status(): PublishTargetStatus[];
  /** Stops every publisher; resolves once their ffmpegs have exited. */
  close(): Promise<void>;
}

// H.264 waiting for a publisher's ffmpeg: about 8 s of 2 Mbit/s video. Past this it skips to the
// next keyframe rather than queueing more.
const DEFAULT_MAX_QUEUED_BYTES = 2 * 1024 * 1024;
// What of ffmpeg's last stderr line /status keeps.
const MAX_ERROR_CHARS = 300;

/** Starts one publisher per target; each counts as a consumer of the camera's H.264 hub. */
export function startPublishing(ctx: CameraContext, hub: H264Hub, targets: readonly PublishTarget[], deps: PublishDeps): RunningPublishing {
  const publishers = targets.map((t) => new TargetPublisher(ctx, hub, t, deps));
  for (const p of publishers) p.start();
  return {
    status: () => publishers.map((p) => p.status()),
    close: async () => {
      await Promise.all(publishers.map((p) => p.close()));
    },
  };
}

/** One target: a hub sink feeding a supervised ffmpeg. */
class TargetPublisher implements H264Sink {
  private readonly log: Logger;
  private readonly ts = new MpegTsPacketizer();
  private readonly stage: FfmpegStage;
  private state: PublishState = 'connecting';
  private lastError: string | null = null;
  private bytes = 0;
  private frames = 0;
  /** The running ffmpeg has had no keyframe yet: it could not decode anything else. */
  private needKeyframe = true;
  private detach: (() => void) | null = null;
  private closed = false;
  /** The hub's skip count, kept once detached (the hub forgets a sink when it leaves). */
  private skippedAtClose = 0;

  constructor(
    private readonly ctx: CameraContext,
    private readonly hub: H264Hub,
    private readonly target: PublishTarget,
    private readonly deps: PublishDeps,
  ) {
    this.log = deps.logger.child({ component: 'publish', target: maskedUrl(target) });
    this.stage = new FfmpegStage({
      ffmpeg: deps.ffmpeg,
      args: () => publishArgs(target),
      logger: this.log,
      maxQueuedBytes: deps.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
      initialBackoffMs: deps.initialBackoffMs,
      maxBackoffMs: deps.maxBackoffMs,
      onExit: (exit) => {
        this.state = 'retrying';
        this.lastError = peerText(exit.reason, MAX_ERROR_CHARS);
      },
    });
    this.stage.runs$
      .pipe(
        switchMap((progress$) => {
          this.ts.reset();
          this.needKeyframe = true;
          this.state = 'connecting';
          return progress$.pipe(readProgress());
        }),
      )
      .subscribe((p) => {
        if (p.frames > 0 && !p.end && this.state === 'connecting') {
          this.state = 'publishing';
          this.log.info('publishing to the target');
        }
      });
  }

  start(): void {
    // The protocol check needs `ffmpeg -protocols`; if even that fails, the supervisor's own
    // start reports why ffmpeg does not run.
    void listOutputProtocols(this.deps.ffmpeg)
      .then((protocols) => missingProtocol(this.deps.ffmpeg, protocols, this.target, this.ctx.name))
      .catch(() => undefined)
      .then((missing) => {
        if (this.closed) return;
        if (missing !== undefined) {
          this.state = 'failed';
          this.lastError = missing;
          this.log.error(missing);
          return;
        }
        this.detach = this.hub.attach(this, { replay: false });
        this.stage.start();
        this.log.info({ format: this.target.format }, 'publishing');
      });
  }

  /** While no ffmpeg runs, units are let through (and dropped in send) so the hub counts no skips. */
  ready(): boolean {
    return !this.stage.running || this.stage.ready;
  }

  send(unit: AccessUnit): void {
    if (!this.stage.running) return;
    if (this.needKeyframe) {
      if (!unit.keyframe) return;
      this.needKeyframe = false;
    }
    this.bytes += unit.data.length;
    this.frames++;
    this.stage.write([this.ts.packetize(unit)], undefined);
  }

  status(): PublishTargetStatus {
    return {
      url: maskedUrl(this.target),
      state: this.state,
      bytes: this.bytes,
      frames: this.frames,
      skipped: this.hub.statsOf(this)?.skipped ?? this.skippedAtClose,
      restarts: this.stage.restarts,
      lastError: this.lastError,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.skippedAtClose = this.hub.statsOf(this)?.skipped ?? this.skippedAtClose;
    this.detach?.();
    this.detach = null;
    await this.stage.stop();
  }
}
