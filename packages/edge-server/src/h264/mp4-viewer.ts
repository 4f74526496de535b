// One GET /cams/NAME/stream.mp4 viewer: the camera's H.264 as a progressive fragmented MP4 that
// <video>, VLC and ffmpeg play. It starts at a keyframe with the init segment, then writes one
// fragment per picture (no added latency; each carries its capture time). A viewer that reads
// slower than the camera is not ready while its socket holds more than maxBufferedBytes: the hub
// then skips it to the next keyframe, so it loses the rest of a GOP and its memory never grows;
// one that reads nothing for stallTimeoutMs is disconnected.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Mp4Muxer, RecorderError } from '@edgecam/recorder';
import type { ClientHandle } from '../contracts.js';
import type { AccessUnit } from './access-units.js';
import type { H264Sink } from './h264-hub.js';

export interface Mp4ViewerOptions {
  client: ClientHandle;
  logger: Logger;
  /** Bytes the socket may hold before pictures are skipped to the next keyframe. */
  maxBufferedBytes: number;
  /** A viewer whose socket has not drained for this long is disconnected. */
  stallTimeoutMs: number;
}

export class Mp4Viewer implements H264Sink {
  private readonly muxer = new Mp4Muxer({ fragment: 'sample' });
  private stallTimer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly opts: Mp4ViewerOptions,
  ) {
    res.on('drain', () => this.unstall());
  }

  ready(): boolean {
    if (this.ended || this.res.destroyed) return false;
    if (this.res.writableLength <= this.opts.maxBufferedBytes) {
      this.unstall();
      return true;
    }
    this.stallTimer ??= setTimeout(() => {
      this.opts.logger.info({ stallTimeoutMs: this.opts.stallTimeoutMs }, 'mp4 viewer read nothing for too long; disconnected');
      this.res.destroy();
    }, this.opts.stallTimeoutMs).unref();
    return false;
  }

  send(unit: AccessUnit): void {
    if (this.ended) return;
    let chunks;
    try {
      chunks = this.muxer.pushAccessUnit(unit.data, unit.timestampUs);
    } catch (err) {
      // New parameter sets (the encoder restarted with other settings) need a new init segment:
      // this response ends, and the player's next request starts a new stream.
      this.ended = true;
      this.opts.logger.info({ err: (err as Error).message, code: err instanceof RecorderError ? err.code : undefined }, 'mp4 stream ended: the H.264 stream changed');
      this.res.end();
      return;
    }
    let bytes = 0;
    this.res.cork();
    for (const chunk of chunks) {
      for (const b of chunk.buffers) this.res.write(b);
      bytes += chunk.bytes;
    }
    this.res.uncork();
    this.opts.client.sent(bytes, unit.timestampUs);
  }

  /** Ends the stream (the server is closing). */
  end(): void {
    this.ended = true;
    clearTimeout(this.stallTimer);
    if (!this.res.destroyed) this.res.end();
  }

  private unstall(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }
}
