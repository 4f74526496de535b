import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { resolveFfmpeg } from '@edgecam/edge-server';

const packageDir = resolve(import.meta.dirname, '..');
const workspaceDir = resolve(packageDir, '../..');
/** ffmpeg in the workspace's order (EDGECAM_FFMPEG, ffmpeg-static, @ffmpeg-installer, PATH). */
export const FFMPEG = resolveFfmpeg().path;

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder of 30 test-pattern JPEGs, 160x120, made once per run. */
    jpegDir: string;
    /** Folder the tests make their working folders in; removed after the run. */
    tmpRoot: string;
  }
}

/**
 * Builds the CLI the tests spawn (`node bin/edgecam.js`, which runs the bundle as installed) and makes the JPEGs every fake server
 * serves, once for the whole run.
 */
export default function setup(project: TestProject): () => void {
  execFileSync('npx', ['tsc', '-p', join(packageDir, 'tsconfig.build.json')], { cwd: workspaceDir, stdio: 'inherit' });
  execFileSync(process.execPath, [join(workspaceDir, 'tools/bundle-cli.mjs'), packageDir], { cwd: workspaceDir, stdio: 'inherit' });
  const tmpRoot = mkdtempSync(join(tmpdir(), 'edgecam-cli-tests-'));
  const jpegDir = join(tmpRoot, 'jpegs');
  mkdirSync(jpegDir);
  execFileSync(
    FFMPEG,
    ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30', '-frames:v', '30', '-c:v', 'mjpeg', '-f', 'image2', join(jpegDir, '%03d.jpg')],
    { stdio: 'inherit', timeout: 30_000 },
  );
  if (readdirSync(jpegDir).length !== 30) throw new Error(`ffmpeg made ${readdirSync(jpegDir).length} JPEGs, expected 30`);
  project.provide('jpegDir', jpegDir);
  project.provide('tmpRoot', tmpRoot);
  return () => rmSync(tmpRoot, { recursive: true, force: true });
}
