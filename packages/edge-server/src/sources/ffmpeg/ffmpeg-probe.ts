// Short ffmpeg runs that only describe: an input (a camera's formats, a file's codec) or the
// binary itself (its encoders, its protocols, an option's name).
import { execFile, type ExecFileException } from 'node:child_process';
import { EdgeServerError } from '../../errors.js';
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
const PROBE_MAX_BYTES = 4 * 1024 * 1024;

/** What one short run printed, and how it ended (null: exit code 0). */
interface ProbeRun {
  error: ExecFileException | null;
  stdout: string;
  stderr: string;
}

/** Runs ffmpeg briefly; never rejects: the caller decides what its ending means. */
function runProbe(ffmpeg: ResolvedFfmpeg, args: string[]): Promise<ProbeRun> {
  return new Promise((resolve) => {
    execFile(
      ffmpeg.path,
      args,
      { timeout: PROBE_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: PROBE_MAX_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ error, stdout, stderr }),
    );
  });
}

/** ffmpeg did not run at all (not found, not executable); a string code is a system error's. */
function couldNotRun(run: ProbeRun): boolean {
  return run.error !== null && typeof run.error.code === 'string';
}

/** Runs ffmpeg and returns its stderr whatever the exit code (probes always "fail": no output). */
async function stderrOf(ffmpeg: ResolvedFfmpeg, args: string[]): Promise<string> {
  const run = await runProbe(ffmpeg, args);
  if (couldNotRun(run)) throw run.error;
  return run.stderr;
}

const listings = new Map<string, Promise<string>>();

/**
 * What this ffmpeg binary lists for `-encoders` or `-protocols`, asked once per binary and flag;
 * rejects with FFMPEG_NOT_FOUND when it lists nothing (and then asks again next time).
 */
export function ffmpegListing(ffmpeg: ResolvedFfmpeg, flag: '-encoders' | '-protocols'): Promise<string> {
  const key = `${ffmpeg.path}\0${flag}`;
  let listing = listings.get(key);
  if (!listing) {
    listing = runProbe(ffmpeg, ['-hide_banner', flag]).then((run) => {
      if (run.error && !run.stdout) throw new EdgeServerError('FFMPEG_NOT_FOUND', `could not run ${ffmpeg.path} ${flag}: ${run.error.message}`);
      return run.stdout;
    });
    listings.set(key, listing);
    listing.catch(() => listings.delete(key));
  }
  return listing;
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
export async function probeRtspTimeoutOption(ffmpeg: ResolvedFfmpeg): Promise<RtspTimeoutOption> {
  const run = await runProbe(ffmpeg, ['-hide_banner', '-h', 'demuxer=rtsp']);
  if (couldNotRun(run)) throw run.error;
  return parseRtspTimeoutOption(run.stdout);
}
