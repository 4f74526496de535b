// A `file:` source with nothing at its path is refused where it was written: `config check` and
// the server's start both name `FILE:LINE: cameras.NAME.source` (or the top-level `source:`),
// instead of passing the check and then stopping every camera with a `--source` nobody typed.
// One broken camera still stops the server (README, "Several cameras").
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/config/config.js';
import { startEdgeServer } from '../src/server.js';
import { config, refusal } from './support/config.js';
import { memoryLogger } from './support/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'edgecam-source-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const CLIP = join(dir, 'clip.mp4');
writeFileSync(CLIP, 'not really a video, but there');
const MISSING = join(dir, 'no-such-clip.mp4');
const NO_FILE = `there is no file at ${MISSING}; give the path of an existing video file`;

function check(argv: string[], env: NodeJS.ProcessEnv = {}): { exitCode: number; output: string } {
  const r = parseCommandLine(['config', 'check', ...argv], env);
  if (!('output' in r)) throw new Error('expected output');
  return r;
}

describe('a file: source that is not there', () => {
  it('is refused by config check and at start, naming each camera\'s file line', () => {
    const f = file('cameras.yaml', [`source: file:${MISSING}`, 'cameras:', '  front:', `    source: file:${CLIP}`, '  back:', `    source: file:${MISSING}`, '  side:']);
    const problems = [`${f}:6: cameras.back.source: ${NO_FILE}`, `${f}:7: cameras.side.source (the top-level source, from ${f}:1): ${NO_FILE}`];
    expect(check(['--config', f])).toEqual({ exitCode: 2, output: problems.map((p) => `${p}\n`).join('') });
    expect(refusal(['--config', f]).split('\n')).toEqual(problems);
  });

  it('names where an inherited source came from: a variable or a flag', () => {
    const f = file('inherits.yaml', ['cameras:', '  a:']);
    expect(refusal(['--config', f], { EDGECAM_SOURCE: `file:${MISSING}` })).toBe(`${f}:2: cameras.a.source (the top-level source, from EDGECAM_SOURCE (--source)): ${NO_FILE}`);
    expect(refusal(['--config', f, '--source', `file:${MISSING}`])).toBe(`${f}:2: cameras.a.source (the top-level source, from --source): ${NO_FILE}`);
  });

  it('is refused as the top-level source: from the file always, from a flag or variable by config check (and at start, as before)', () => {
    const f = file('one.yaml', ['fps: 10', `source: file:${MISSING}`]);
    expect(check(['--config', f])).toEqual({ exitCode: 2, output: `${f}:2: source: ${NO_FILE}\n` });
    expect(refusal(['--config', f])).toBe(`${f}:2: source: ${NO_FILE}`);
    expect(check(['--source', `file:${MISSING}`])).toEqual({ exitCode: 2, output: `--source: ${NO_FILE}\n` });
    expect(check([], { EDGECAM_SOURCE: `file:${MISSING}` })).toEqual({ exitCode: 2, output: `EDGECAM_SOURCE (--source): ${NO_FILE}\n` });
    expect(config(['--source', `file:${MISSING}`]).source).toEqual({ kind: 'file', path: MISSING });
  });

  it('passes when the file is there, relative paths from the working directory', () => {
    const f = file('there.yaml', ['cameras:', '  front:', `    source: file:${CLIP}`]);
    expect(check(['--config', f]).exitCode).toBe(0);
    expect(check(['--source', `file:${relative(process.cwd(), CLIP)}`]).exitCode).toBe(0);
    expect(check(['--source', 'file:no-such-file.mp4']).output).toBe(`--source: there is no file at ${resolve('no-such-file.mp4')}; give the path of an existing video file\n`);
  });

  it('is named by its camera when code starts the server with such a config', async () => {
    const c = config(['--config', file('ok.yaml', ['cameras:', '  front:', '  back:', `    source: file:${CLIP}`])]);
    const broken = { ...c, host: '127.0.0.1', port: 0, http: false, cameras: c.cameras!.map((cam) => (cam.name === 'back' ? { ...cam, source: { kind: 'file' as const, path: MISSING } } : cam)) };
    const err = await startEdgeServer(broken, { logger: memoryLogger().logger, ffmpeg: { path: '/nonexistent/ffmpeg', via: 'EDGECAM_FFMPEG' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SOURCE_NOT_FOUND', message: `camera back: file:${MISSING}: ${NO_FILE}` });
  });

  it('makes edgecam-server exit 2 with the line, before any camera starts', async () => {
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    if (!existsSync(cli)) throw new Error(`${cli} is missing: build the package first (npm run build)`);
    const f = file('cli.yaml', ['cameras:', '  front:', '    source: testsrc', '  back:', `    source: file:${MISSING}`]);
    const child = spawn(process.execPath, [cli, '--config', f], { env: { ...process.env, EDGECAM_HOST: '127.0.0.1', EDGECAM_PORT: '0', EDGECAM_HTTP_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(stderr).toBe(`edgecam-server: ${f}:5: cameras.back.source: ${NO_FILE}\nRun edgecam-server --help to see every option.\n`);
  });
});
