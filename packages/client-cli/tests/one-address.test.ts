// One address per server: every command reaches a real edgecam-server given its host (and --port
// for a TCP port other than 6810), `recordings` and `pull` find the HTTP side from the WELCOME,
// and a refused or wrong port reads the same sentence in every command.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DEFAULT_CONFIG, parseCommandLine, startEdgeServer, type FrameSource, type RunningEdgeServer, type SourceEvent } from '@edgecam/edge-server';
import { createRecorder, inspect } from '@edgecam/recorder';
import { parseGlobals } from '../src/global-options.js';
import { findHttpSide, sideUrl, welcomeHttpSide } from '../src/http-side.js';
import { withServerAddress } from '../src/server-address.js';
import { cleanupsAfterEach } from './cleanups.js';
import { startFakeV2Server } from './fake-v2-server.js';
import { runCli, spawnCli, tempDir } from './run-cli.js';
import { freePort } from './scripted-server.js';
import { testFrames } from './test-frames.js';

const silent = pino({ level: 'silent' });

/** A camera without ffmpeg: the test JPEGs at 10 fps while someone watches or records. */
function memorySource(): FrameSource {
  let seq = 0;
  let lastUs = 0;
  return {
    kind: 'custom',
    spec: 'memory:test',
    width: 160,
    height: 120,
    fps: 10,
    capture: () =>
      new Observable<SourceEvent>((sub) => {
        sub.next({ type: 'state', state: 'running' });
        const timer = setInterval(() => {
          lastUs = Math.max(Date.now() * 1000, lastUs + 1);
          const jpeg = testFrames()[seq % testFrames().length]!;
          sub.next({ type: 'frame', frame: { seq: ++seq, captureTimeUs: lastUs, jpeg } });
        }, 100);
        return () => clearInterval(timer);
      }),
    settled: () => Promise.resolve(),
  };
}

/** Two cameras (front, the default, and door), recording into `recDir`, HTTP on an ephemeral port. */
async function startServer(dir: string, extra: string[] = []): Promise<RunningEdgeServer> {
  const file = join(dir, 'edgecam.yaml');
  const recDir = join(dir, 'rec');
  writeFileSync(
    file,
    ['host: 127.0.0.1', 'port: 0', 'httpPort: 0', 'default: front', 'record:', `  dir: ${recDir}`, 'cameras:', '  front: {}', '  door: {}', ...extra, ''].join('\n'),
  );
  const parsed = parseCommandLine(['--config', file], {});
  if (!('config' in parsed)) throw new Error(parsed.output);
  return startEdgeServer(
    { ...parsed.config, logLevel: 'silent' },
    {
      logger: silent,
      statsIntervalMs: 0,
      sources: { front: memorySource(), door: memorySource() },
      features: { recording: { statfs: async () => ({ free: 1e12 }), recorder: { fsync: false } } },
    },
  );
}

// Three segments of `front` an hour ago (10 fps, 20 + 10 + 5 frames), for pull.
const t0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const starts = [t0, t0 + 10_000, t0 + 20_000];
const counts = [20, 10, 5];

let server: RunningEdgeServer;
let port: string;
let root: string;
beforeAll(async () => {
  root = tempDir('one-address-');
  const camDir = join(root, 'rec', 'front');
  mkdirSync(camDir, { recursive: true });
  for (const [i, start] of starts.entries()) {
    const rec = createRecorder(join(camDir, `${start}_001.avi`), { fsync: false, frameRate: 10 });
    for (let f = 0; f < counts[i]!; f++) await rec.write(testFrames()[f % 30]!);
    await rec.close();
  }
  server = await startServer(root);
  port = String(server.tcpPort);
});
afterAll(() => server?.close());

/** Each command's own arguments, and what its output shows when it reached the server. */
const ONE_SHOT: Array<[string, string[], RegExp, string?]> = [
  ['snapshot', ['-o', 'shot.jpg'], /^saved shot\.jpg \(160x120, .*v2 protocol\)\n$/],
  ['record', ['--frames', '3', '-o', 'rec.avi'], /^saved rec\.avi: 3 frames/],
  ['shell', [], /^connected to 127\.0\.0\.1:\d+ \(edgecam-server [^,]+, v2 protocol\)/, '2\n'],
  ['cameras', [], /^front \(default\)\ndoor\n$/],
  ['recordings', ['--camera', 'front', '--json'], /"file":"\d+_001\.avi"/],
  ['pull', ['--camera', 'front', '--from', String(t0), '--to', String(t0 + 20_450), '-o', 'out.avi'], /^saved out\.avi: 35 frames from 3 segments/],
];

describe('every command, given only the host', () => {
  it.each(ONE_SHOT)('%s reaches the server with --port', async (command, args, shows, input) => {
    const r = await runCli(['--port', port, command, '127.0.0.1', ...args], { cwd: tempDir(), ...(input !== undefined ? { input } : {}) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(shows);
  });

  it.each(ONE_SHOT)('%s reaches the server at HOST:PORT', async (command, args, shows, input) => {
    const r = await runCli([command, `127.0.0.1:${port}`, ...args], { cwd: tempDir(), ...(input !== undefined ? { input } : {}) });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(shows);
  });

  it('pull joins what the HTTP side serves, found from the WELCOME alone', async () => {
    const cwd = tempDir();
    const r = await runCli(['--port', port, 'pull', '--camera', 'front', '--from', String(t0 + 1500), '--to', String(t0 + 20_450), '-o', 'out.avi'], { cwd });
    expect(r.code).toBe(0);
    const info = await inspect(join(cwd, 'out.avi'));
    expect(info).toMatchObject({ frames: 5 + 10 + 5, fps: 10, problems: [] });
  });

  it('view relays the stream and links the server page the WELCOME names', async () => {
    const run = spawnCli(['--port', port, 'view', '127.0.0.1', '--listen', '127.0.0.1:0'], { cwd: tempDir() });
    const [, url] = await run.waitForOutput(/open (http:\/\/[\d.:]+\/) \(relaying 127\.0\.0\.1:\d+, v2 protocol/);
    const stats = (await (await fetch(`${url}stats.json`)).json()) as { serverPage: string | null };
    expect(stats.serverPage).toBe(`http://127.0.0.1:${server.httpPort}/`);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(0);
  });

  it('events follows the default camera, and --all every camera', async () => {
    for (const [extra, cameras] of [[[], ['front']], [['--all'], ['front', 'door']]] as const) {
      const run = spawnCli(['--port', port, 'events', '127.0.0.1', ...extra], { cwd: tempDir() });
      for (const camera of cameras) await run.waitForOutput(new RegExp(`following 127\\.0\\.0\\.1:${port} \\(edgecam-server [^,]+, camera ${camera}\\)`));
      for (const camera of ['front', 'door']) {
        server.bus.publish({ id: `${camera}-${extra.length}`, camera, type: 'motion', phase: 'start', startedAt: Date.now(), score: 0.25 });
      }
      for (const camera of cameras) await run.waitForOutput(new RegExp(`${camera} motion start`));
      run.child.kill('SIGINT');
      const r = await run.done;
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines.map((l) => l.split(' ')[1]).sort()).toEqual([...cameras].sort());
    }
  });

  it('events refuses --all with --camera', async () => {
    const r = await runCli(['--port', port, '--camera', 'door', 'events', '--all'], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('edgecam: --all follows every camera: leave out --camera (or --all)\n');
  });

  it('recordings and pull take the HTTP port from --http-port, without the TCP port', async () => {
    const closed = await freePort();
    const r = await runCli(['--http-port', String(server.httpPort), 'recordings', `127.0.0.1:${closed}`, '--camera', 'front', '--json'], { cwd: tempDir() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBeGreaterThanOrEqual(3);
  });

  it('recordings still takes the HTTP port as its address, as before', async () => {
    const r = await runCli(['recordings', `127.0.0.1:${server.httpPort}`, '--camera', 'front', '--json'], { cwd: tempDir() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBeGreaterThanOrEqual(3);
  });
});

/** Every command that talks to a server, with what it needs to run to its first connection. */
const SERVER_COMMANDS: Array<[string, string[]]> = [
  ['snapshot', []],
  ['record', ['--frames', '1']],
  ['view', ['--listen', '127.0.0.1:0']],
  ['shell', []],
  ['cameras', []],
  ['events', []],
  ['recordings', []],
  ['pull', ['--camera', 'front']],
];

describe('the same sentence in every command', () => {
  it.each(SERVER_COMMANDS)('%s: a closed port is refused in the words snapshot uses', async (command, args) => {
    const closed = await freePort();
    const cwd = tempDir();
    const r = await runCli(['--port', String(closed), command, ...args], { cwd, input: '' });
    expect(r.stderr).toBe(`edgecam: could not connect to 127.0.0.1:${closed}: connection refused (is the server running, and on this port?)\n`);
    expect(r.code).toBe(3);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it.each(SERVER_COMMANDS.filter(([c]) => c !== 'recordings' && c !== 'pull'))('%s: the HTTP port given as the TCP port is named as such', async (command, args) => {
    const r = await runCli(['--port', String(server.httpPort), command, ...args], { cwd: tempDir(), input: '' });
    expect(r.stderr).toBe(
      `edgecam: 127.0.0.1:${server.httpPort} looks like an HTTP port (it answered "HTTP/1.1 400 Bad Request"); edgecam needs the server's TCP port, 6810 by default (see --port)\n`,
    );
    expect(r.code).toBe(4);
  });
});

describe('against an edgecam-server over TLS', () => {
  let tlsServer: RunningEdgeServer;
  beforeAll(async () => {
    tlsServer = await startEdgeServer(
      { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 0, httpPort: 0, size: { width: 160, height: 120 }, fps: 10, logLevel: 'silent', tlsSelfSigned: true, tlsDir: tempDir('tls-') },
      { logger: silent, statsIntervalMs: 0, source: memorySource() },
    );
  });
  afterAll(() => tlsServer?.close());

  it.each(SERVER_COMMANDS)('%s without --tls says the port speaks TLS', async (command, args) => {
    const r = await runCli(['--port', String(tlsServer.tcpPort), '--timeout', '20', command, ...args], { cwd: tempDir(), input: '', env: { EDGECAM_LOG_LEVEL: 'error' } });
    expect(r.stderr).toBe(`edgecam: 127.0.0.1:${tlsServer.tcpPort} speaks TLS; add --tls (and --fingerprint or --ca to trust a self-signed certificate)\n`);
    expect(r.code).toBe(3);
  });

  it('recordings finds the https side from the WELCOME and trusts it as --fingerprint says', async () => {
    const fingerprint = tlsServer.tls!.fingerprint256;
    const r = await runCli(['--port', String(tlsServer.tcpPort), '--fingerprint', fingerprint, 'recordings', '127.0.0.1'], { cwd: tempDir() });
    // This server records nothing: its HTTP side answers 404 for /recordings, over https.
    expect(r.stderr).toBe(`edgecam: 127.0.0.1:${tlsServer.httpPort} refused /recordings with HTTP 404: no such path: /recordings\n`);
    expect(r.code).toBe(3);
  });
});

describe('finding the HTTP side', () => {
  const cleanups = cleanupsAfterEach();
  const globals = (argv: Record<string, string> = {}) => parseGlobals(argv, () => (Object.keys(argv).length > 0 ? 'cli' : 'default'));

  it('reads HOST, HOST:PORT, [IPv6]:PORT and :PORT in place of --host and --port', () => {
    const g = globals();
    expect(withServerAddress(g, undefined)).toBe(g);
    expect(withServerAddress(g, 'cam.local')).toMatchObject({ host: 'cam.local', port: 6810 });
    expect(withServerAddress(g, 'cam.local:7000')).toMatchObject({ host: 'cam.local', port: 7000 });
    expect(withServerAddress(g, '[::1]:7000')).toMatchObject({ host: '::1', port: 7000 });
    expect(withServerAddress(g, ':7000')).toMatchObject({ host: '127.0.0.1', port: 7000 });
    expect(() => withServerAddress(g, 'cam:99999')).toThrow('invalid server address "cam:99999": expected HOST, HOST:PORT or [IPv6]:PORT');
  });

  it("keeps the host the user gave, whatever the server's path says", () => {
    expect(sideUrl('http', 'cam.local', 8080, '//evil.example/x').href).toBe('http://cam.local:8080//evil.example/x/');
    expect(sideUrl('https', '::1', 8443).href).toBe('https://[::1]:8443/');
    expect(welcomeHttpSide({ server: 's', version: '1', width: 1, height: 1, fps: 1, authRequired: false, http: { port: 81, scheme: 'http', path: '/cam' } }, 'h')?.base.href).toBe(
      'http://h:81/cam/',
    );
    expect(() => welcomeHttpSide({ server: 's', version: '1', width: 1, height: 1, fps: 1, authRequired: false, http: { port: 81, scheme: 'gopher', path: '/' } }, 'h')).toThrow(
      /scheme "gopher", which edgecam does not speak; give --http-port/,
    );
  });

  it('takes the base path a server names, and tries 8080 for a server that names none', async () => {
    const named = await startFakeV2Server({ frames: testFrames(), welcome: { http: { port: 18080, scheme: 'http', path: '/edgecam/' } } });
    const older = await startFakeV2Server({ frames: testFrames() });
    cleanups.push(() => named.close(), () => older.close());
    const g = { ...globals(), host: '127.0.0.1' };
    expect((await findHttpSide(g, `:${named.port}`, silent, 'recordings')).base.href).toBe('http://127.0.0.1:18080/edgecam/');
    const guess = await findHttpSide(g, `:${older.port}`, silent, 'recordings');
    expect(guess.base.href).toBe('http://127.0.0.1:8080/');
    expect(guess.portNote).toMatch(/names no HTTP port .* so 8080 was tried; give --http-port/);
  });
});
