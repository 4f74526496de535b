// ffmpeg run for its report (stderr), and the SSIM of a distorted video against a reference:
// how the H.264 and MP4 benchmarks compare an encode with the camera's JPEGs at equal quality.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolveFfmpeg } from '@edgecam/edge-server';

const run$ = promisify(execFile);

/** Runs ffmpeg (banner and progress off); resolves with what it printed on stderr. */
export async function ffmpeg(args) {
  const { stderr } = await run$(resolveFfmpeg().path, ['-hide_banner', '-nostats', ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stderr;
}

/** SSIM (All) of `distorted` against the reference input arguments (`['-i', path]` or a lavfi source). */
export async function ssim(distorted, reference) {
  const err = await ffmpeg(['-i', distorted, ...reference, '-lavfi', '[0:v][1:v]ssim', '-f', 'null', '-']);
  const m = /SSIM .*All:([0-9.]+)/.exec(err);
  if (!m) throw new Error(`no SSIM in ffmpeg's output: ${err.slice(-300)}`);
  return Number(m[1]);
}
