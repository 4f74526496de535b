// The server process is SIGKILLed: no exit hook runs, and an ffmpeg that writes nothing (a wedged
// camera read) never hits the closed pipe. On Linux with util-linux's setpriv, the kernel kills it
// with the server (PR_SET_PDEATHSIG). Needs `npm run build` (the built CLI is started).
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFakeFfmpeg } from './support/fake-ffmpeg.js';
import { alive } from './support/processes.js';
import { testPatternJpegs } from './support/jpegs.js';
import { waitUntil } from './support/wait.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const children: ChildProcess[] = [];
const hasSetpriv = process.platform === 'linux' && spawnSync('setpriv', ['--help'], { encoding: 'utf8' }).stdout?.includes('--pdeathsig') === true;

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe.runIf(hasSetpriv)('ffmpeg when the server is SIGKILLed', () => {
  it('dies with the server even while it writes nothing (a wedged camera)', async () => {
    const [jpeg] = (await testPatternJpegs(160, 120, 1)) as [Buffer];
    const wedgedFlag = join(tmpdir(), `edgecam-wedged-${process.pid}-${Date.now()}`);
    writeFileSync(wedgedFlag, '');
    const fake = makeFakeFfmpeg({ jpeg, fps: 10, wedgedFlag });
    if (!existsSync(cli)) throw new Error(`${cli} is missing: build the package first (npm run build)`);
    const child = spawn(process.execPath, [cli, '--always-on', '--no-http'], {
      env: { ...process.env, EDGECAM_HOST: '127.0.0.1', EDGECAM_PORT: '0', EDGECAM_FFMPEG: fake.path },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(child);
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
    const started = () => out.split('\n').flatMap((l) => (l.includes('"ffmpeg started"') ? [JSON.parse(l) as { pid: number; diesWithServer: boolean }] : []));
    await waitUntil(() => started().length > 0, 15_000, 'ffmpeg to start');
    const { pid, diesWithServer } = started()[0]!;
    expect(diesWithServer).toBe(true);
    expect(alive(pid)).toBe(true);

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // The kernel sends the signal as the server dies; 5 s is generous for it to be reaped.
    await waitUntil(() => !alive(pid), 5000, 'the wedged ffmpeg to die with the server');
  });
});
