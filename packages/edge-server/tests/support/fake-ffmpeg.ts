// Builds a fake ffmpeg executable (a shell wrapper around fake-ffmpeg.mjs) with given behaviour.
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedFfmpeg } from '../../src/sources/ffmpeg/resolve-ffmpeg.js';

export interface FakeFfmpegConfig {
  jpeg: Buffer;
  fps?: number;
  v4l2Formats?: string;
  probe?: string;
  dieAfterFrames?: number;
  ignoreTerm?: boolean;
  failImmediately?: boolean;
  /** While this file exists the camera is unplugged: a run fails at start or mid-stream. */
  unpluggedFlag?: string;
  /** While this file exists a run stays alive and writes nothing (a wedged camera). */
  wedgedFlag?: string;
}

export interface FakeFfmpeg extends ResolvedFfmpeg {
  /** Every command line the fake was started with, in order. */
  runs(): { pid: number; args: string[] }[];
}

export function makeFakeFfmpeg(cfg: FakeFfmpegConfig): FakeFfmpeg {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-fake-ffmpeg-'));
  const jpegPath = join(dir, 'frame.jpg');
  writeFileSync(jpegPath, cfg.jpeg);
  const argsLog = join(dir, 'runs.jsonl');
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify({ ...cfg, jpeg: jpegPath, argsLog }));
  const script = fileURLToPath(new URL('./fake-ffmpeg.mjs', import.meta.url));
  const path = join(dir, 'ffmpeg');
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${script}" "${configPath}" "$@"\n`);
  chmodSync(path, 0o755);
  return {
    path,
    via: 'EDGECAM_FFMPEG',
    runs: () =>
      existsSync(argsLog)
        ? readFileSync(argsLog, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { pid: number; args: string[] })
        : [],
  };
}
