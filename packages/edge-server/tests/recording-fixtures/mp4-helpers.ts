// Shared by the MP4 recording tests: H.264 pictures made by ffmpeg (as the server's encoder makes
// them), MP4 segments written ahead of time, and Debian's ffprobe counting what a file plays.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRecorder } from '@edgecam/recorder';
import { resolveFfmpeg } from '../../src/sources/ffmpeg/resolve-ffmpeg.js';

const run = promisify(execFile);

/** `count` pictures of the test pattern (Annex B, a keyframe every `gop`), split at their delimiters. */
export async function testPatternH264(count: number, gop = 10, size = '160x120'): Promise<Buffer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'edgecam-h264-units-'));
  try {
    const out = join(dir, 'out.h264');
    await run(resolveFfmpeg().path, [
      '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=10`, '-frames:v', String(count),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
      '-x264-params', `keyint=${gop}:min-keyint=${gop}:scenecut=0:repeat-headers=1`, '-bsf:v', 'h264_metadata=aud=insert', '-f', 'h264', out,
    ]);
    const data = await readFile(out);
    const starts: number[] = [];
    for (let i = 0; i + 4 < data.length; i++) {
      if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 0 && data[i + 3] === 1 && (data[i + 4]! & 0x1f) === 9) starts.push(i);
    }
    return starts.map((s, k) => data.subarray(s, starts[k + 1] ?? data.length));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A finished MP4 segment named for `startMs`, its pictures 100 ms apart from then. */
export async function writeMp4Segment(dir: string, startMs: number, units: readonly Buffer[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${startMs}_001.mp4`);
  const rec = createRecorder(path, { fsync: false, checkpointIntervalMs: 0 });
  for (const [i, h264] of units.entries()) await rec.write({ h264, captureTimeUs: startMs * 1000 + i * 100_000 });
  await rec.close();
  return path;
}

/** Frames ffprobe decodes from `file` (-count_frames), and what it printed at -v error. */
export async function ffprobeFrames(file: string): Promise<{ frames: number; errors: string; width: number; height: number }> {
  const { stdout, stderr } = await run('/usr/bin/ffprobe', [
    '-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height', '-of', 'json', file,
  ]).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '{}', stderr: err.stderr ?? String(err) }));
  const stream = (JSON.parse(stdout || '{}') as { streams?: Array<{ nb_read_frames?: string; width?: number; height?: number }> }).streams?.[0];
  return { frames: Number(stream?.nb_read_frames ?? 0), errors: stderr.trim(), width: stream?.width ?? 0, height: stream?.height ?? 0 };
}

/** The resolved ffmpeg with `args`; SIGKILLed after `timeoutMs`, so it never outlives the test. */
export function runFfmpeg(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(resolveFfmpeg().path, ['-hide_banner', '-nostdin', ...args], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}
