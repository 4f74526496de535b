// Short ffmpeg runs that only describe an input (a camera's formats, a file's codec).
import { execFile } from 'node:child_process';
import type { ResolvedFfmpeg } from './resolve-ffmpeg.js';
import {
  fileProbeArgs,
  parseInputProbe,
  parseRtspTimeoutOption,
  parseV4l2Formats,
  v4l2ProbeArgs,
  type InputProbe,
  type RtspTimeoutOption,
  type V4l2Formats,
} from './ffmpeg-args.js';

const PROBE_TIMEOUT_MS = 10_000;

/** Runs ffmpeg and returns its stderr whatever the exit code (probes always "fail": no output). */
function stderrOf(ffmpeg: ResolvedFfmpeg, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      ffmpeg.path,
      args,
      { timeout: PROBE_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, encoding: 'utf8' },
      (err, _stdout, stderr) => {
        const spawnFailed = err && typeof (err as NodeJS.ErrnoException).code === 'string';
        if (spawnFailed) reject(err);
        else resolve(stderr);
      },
    );
  });
}

/** The formats a V4L2 device offers. */
export async function probeV4l2(ffmpeg: ResolvedFfmpeg, device: string): Promise<V4l2Formats> {
  return parseV4l2Formats(await stderrOf(ffmpeg, v4l2ProbeArgs(device)));
}

/** What ffmpeg says about a file (its demuxers and video codec). */
export async function probeFile(ffmpeg: ResolvedFfmpeg, path: string): Promise<InputProbe> {
  return parseInputProbe(await stderrOf(ffmpeg, fileProbeArgs(path)));
}

/** The name this ffmpeg gives the RTSP socket timeout (its help goes to stdout). */
export function probeRtspTimeoutOption(ffmpeg: ResolvedFfmpeg): Promise<RtspTimeoutOption> {
  return new Promise((resolve, reject) => {
    execFile(
      ffmpeg.path,
      ['-hide_banner', '-h', 'demuxer=rtsp'],
      { timeout: PROBE_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, encoding: 'utf8' },
      (err, stdout) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') reject(err);
        else resolve(parseRtspTimeoutOption(stdout));
      },
    );
  });
}
