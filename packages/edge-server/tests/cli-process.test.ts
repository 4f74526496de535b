// The edgecam-server command as a process: starts with no arguments, prints where to
// connect, serves, and on SIGTERM exits 0 leaving no ffmpeg behind. Needs `npm run build`
// (Nx runs it before the tests).
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { LegacyClient } from './support/clients.js';
import { alive, childrenOf } from './support/processes.js';
import { waitUntil } from './support/wait.js';

// The installed command, which runs the bundle (dist/bundle/cli.cjs): what a user starts.
const cli = fileURLToPath(new URL('../bin/edgecam-server.js', import.meta.url));
const children: ChildProcess[] = [];
const holders: Server[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const h of holders.splice(0)) h.close();
});

/** A port on 127.0.0.1 that a plain listener of the test holds. */
async function heldPort(): Promise<number> {
  const holder = createServer();
  holders.push(holder);
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  return (holder.address() as { port: number }).port;
}

interface Running {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Running {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build the package first (npm run build)`);
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], {
    env: { ...process.env, EDGECAM_HOST: '127.0.0.1', EDGECAM_PORT: '0', EDGECAM_HTTP_PORT: '0', EDGECAM_SIZE: '160x120', EDGECAM_FPS: '10', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    const parts = out.split('\n');
    out = parts.pop()!;
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, stderr: () => err, exited };
}

async function listening(r: Running): Promise<{ tcpPort: number }> {
  await waitUntil(() => r.lines.some((l) => l.msg === 'listening'), 15_000, () => `the listening line; stderr: ${r.stderr()}`);
  const tcp = r.lines.find((l) => l.msg === 'listening')!.tcp as string;
  return { tcpPort: Number(tcp.split(':').at(-1)) };
}

/** A server capturing from the start (--always-on), once its ffmpeg runs. */
async function startCapturing(): Promise<{ r: Running; tcpPort: number; ffmpegPid: number }> {
  const r = start(['--always-on', '--no-http']);
  const { tcpPort } = await listening(r);
  await waitUntil(() => r.lines.some((l) => l.msg === 'ffmpeg started'), 10_000, 'ffmpeg to start');
  const ffmpegPid = r.lines.find((l) => l.msg === 'ffmpeg started')!.pid as number;
  return { r, tcpPort, ffmpegPid };
}

// Each test starts node processes, which take seconds each on a loaded machine.
describe('the edgecam-server process', { timeout: 60_000 }, () => {
  it('starts with no arguments, prints where to connect and which ffmpeg, and serves', async () => {
    const r = start([]);
    const { tcpPort } = await listening(r);
    await waitUntil(() => r.stderr().includes('ffmpeg:'), 5000, 'the banner');
    expect(r.stderr()).toContain(`tcp://127.0.0.1:${tcpPort}`);
    expect(r.stderr()).toMatch(/http:\/\/127\.0\.0\.1:\d+\//);
    expect(r.stderr()).toContain('via @ffmpeg-installer/ffmpeg');
    expect(r.lines.find((l) => l.msg === 'using ffmpeg from @ffmpeg-installer/ffmpeg')).toBeDefined();
    const c = await LegacyClient.connect(tcpPort);
    c.write('01');
    await c.waitForFrames(1);
    c.close();
    r.child.kill('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
  });

  it('logs a rejected promise nobody handles as an error and goes on serving', async () => {
    // Injected into the real process: SIGUSR2 leaves a rejected promise behind, as a bug would.
    const inject = `data:text/javascript,process.on('SIGUSR2',()=>{Promise.reject(new Error('injected by the test'))})`;
    const r = start(['--no-http'], {}, ['--import', inject]);
    const { tcpPort } = await listening(r);
    r.child.kill('SIGUSR2');
    await waitUntil(() => r.lines.some((l) => /nobody to handle it/.test(String(l.msg))), 10_000, 'the logged rejection');
    const line = r.lines.find((l) => /nobody to handle it/.test(String(l.msg)))!;
    expect(line.level).toBe(50);
    expect(JSON.stringify(line.err)).toContain('injected by the test');
    const c = await LegacyClient.connect(tcpPort);
    c.write('01');
    await c.waitForFrames(1);
    c.close();
    r.child.kill('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
  });

  it('stops ffmpeg and exits 0 on SIGTERM, leaving no child behind', async () => {
    const { r, tcpPort, ffmpegPid } = await startCapturing();
    expect(childrenOf(r.child.pid!)).toContain(ffmpegPid);
    const c = await LegacyClient.connect(tcpPort);
    c.write('3');
    await c.waitForFrames(3);
    r.child.kill('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(alive(ffmpegPid)).toBe(false);
    await c.waitClosed();
    const msgs = r.lines.map((l) => l.msg);
    expect(msgs).toContain('shutting down');
    expect(msgs).toContain('ffmpeg stopped');
    expect(msgs.at(-1)).toBe('stopped');
  });

  it('stops on SIGINT the same way', async () => {
    const { r, ffmpegPid } = await startCapturing();
    r.child.kill('SIGINT');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(alive(ffmpegPid)).toBe(false);
  });

  it('leaves no ffmpeg running even when it is killed with SIGKILL', async () => {
    const { r, ffmpegPid } = await startCapturing();
    r.child.kill('SIGKILL');
    await r.exited;
    // Nothing of ours runs any more; ffmpeg's next write hits a closed pipe and it exits.
    await waitUntil(() => !alive(ffmpegPid), 10_000, 'the orphaned ffmpeg to exit');
  });

  it('refuses a bad value with exit code 2, naming the flag and what is allowed', async () => {
    const r = start(['--source', 'foo']);
    expect(await r.exited).toEqual({ code: 2, signal: null });
    expect(r.stderr()).toContain('--source: expected testsrc, v4l2:/dev/videoN, file:PATH, stdin, http(s)://HOST/PATH (MJPEG), rtsp(s)://HOST/PATH[#udp], tcp://HOST[:PORT] (the seed\'s camera server) or edgecam(s)://HOST[:PORT][/CAMERA] (another edgecam-server), got "foo"');
    const e = start([], { EDGECAM_QUALITY: '101' });
    expect(await e.exited).toEqual({ code: 2, signal: null });
    expect(e.stderr()).toContain('EDGECAM_QUALITY (--quality): expected an integer from 1 to 100, got "101"');
    const u = start(['--bogus']);
    expect(await u.exited).toEqual({ code: 2, signal: null });
    expect(u.stderr()).toContain("unknown option '--bogus'");
  });

  it('refuses a YAML alias bomb and a huge config file with exit code 2 and one line, no stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgecam-cli-config-'));
    const bomb = join(dir, 'bomb.yaml');
    const lol = `["${'lol","'.repeat(9)}lol"]`;
    writeFileSync(bomb, `a: &a ${lol}\nb: &b [${'*a,'.repeat(9)}*a]\nc: &c [${'*b,'.repeat(9)}*b]\nd: [${'*c,'.repeat(9)}*c]\n`);
    const huge = join(dir, 'huge.yaml');
    writeFileSync(huge, `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    for (const [path, problem] of [[bomb, 'expands YAML aliases'], [huge, 'larger than 1 MiB']] as const) {
      const r = start(['--config', path]);
      expect(await r.exited).toEqual({ code: 2, signal: null });
      const lines = r.stderr().trim().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^edgecam-server: ${path.replace(/[.]/g, '\\.')}(:\\d+)?: .*${problem}`));
      expect(r.stderr()).not.toMatch(/\n\s+at /);
    }
  });

  it('exits 1 with a clear message when its port is taken', async () => {
    const first = start(['--no-http']);
    const { tcpPort } = await listening(first);
    const second = start(['--no-http'], { EDGECAM_PORT: String(tcpPort) });
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.lines.find((l) => l.level === 60)?.msg).toMatch(/cannot start: .*EADDRINUSE/);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });

  it('says in one line, without a stack, that its TCP port is in use, and how to choose another', async () => {
    const port = await heldPort();
    const r = start(['--no-http'], { EDGECAM_PORT: String(port) });
    expect(await r.exited).toEqual({ code: 1, signal: null });
    expect(r.stderr()).toBe(`edgecam-server: TCP port ${port} is in use (another edgecam-server?); choose another with --port or EDGECAM_PORT\n`);
    const fatal = r.lines.filter((l) => l.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ code: 'EADDRINUSE', msg: expect.stringMatching(/^cannot start: TCP port \d+ is in use/) });
    expect(fatal[0]).not.toHaveProperty('err');
  });

  it('says the same of its HTTP port, naming --http-port', async () => {
    const port = await heldPort();
    const r = start(['--http-port', String(port)]);
    expect(await r.exited).toEqual({ code: 1, signal: null });
    expect(r.stderr()).toBe(
      `edgecam-server: HTTP port ${port} is in use (another edgecam-server?); choose another with --http-port or EDGECAM_HTTP_PORT, or turn HTTP off with --no-http\n`,
    );
  });

  it('says when --host is not an address of this machine', async () => {
    const r = start(['--host', '192.0.2.1']);
    expect(await r.exited).toEqual({ code: 1, signal: null });
    expect(r.stderr()).toBe(
      'edgecam-server: --host 192.0.2.1 is not an address of this machine; choose one it has, or 0.0.0.0 for all, with --host or EDGECAM_HOST\n',
    );
  });
});
