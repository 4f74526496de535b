// `edgecam cameras` with no address lists what answers on the LAN: the real server and the real
// CLI, each started inside a network namespace the test makes (two hosts joined by a veth pair,
// a LAN of its own: nothing reaches the machine's network). Needs root (ip netns), as CI has.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, type LanHost, type TestLan } from '@edgecam/discovery/netns';
import { childEnv, CLI, tempDir, type CliRun } from './run-cli.js';
import { waitFor } from './wait-for.js';

const SERVER = resolve(import.meta.dirname, '../../edge-server/bin/edgecam-server.js');

/** The CLI run to its end inside a namespace. */
function cliIn(lan: TestLan, host: LanHost, args: string[], cwd = tempDir(), env: Record<string, string> = {}): Promise<CliRun> {
  const child = lan.spawn(host, process.execPath, [CLI, ...args], { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((done) => child.once('close', (code, signal) => done({ code, signal, stdout, stderr })));
}

/** A process in a namespace whose stdout the test waits on. */
function startIn(lan: TestLan, host: LanHost, args: string[]): { child: ChildProcess; out: () => string } {
  const child = lan.spawn(host, process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  return { child, out: () => out };
}

/** Starts the built server in a namespace; its ports once it has announced itself. */
async function startServer(lan: TestLan, host: LanHost, args: string[], announced = true): Promise<{ tcp: number; http: number }> {
  const s = startIn(lan, host, [SERVER, '--port', '0', '--http-port', '0', '--size', '160x120', '--fps', '5', ...args]);
  const ready = announced ? /"msg":"announced on the LAN over mDNS/ : /"msg":"listening"/;
  await waitFor(() => ready.test(s.out()) || s.child.exitCode !== null, `the server ${args.join(' ')}`, 20_000);
  const listening = JSON.parse(s.out().split('\n').find((l) => l.includes('"msg":"listening"'))!) as { tcp: string; http: string };
  return { tcp: Number(/:(\d+)$/.exec(listening.tcp)![1]), http: Number(/:(\d+)\/$/.exec(listening.http)![1]) };
}

describe('edgecam cameras with no address, on a LAN of the test\'s own', () => {
  let lan: TestLan;
  let garage: { tcp: number; http: number };

  beforeAll(async () => {
    lan = createLan();
    const config = join(tempDir(), 'edgecam.yaml');
    writeFileSync(config, 'cameras:\n  front:\n    source: testsrc\n  door:\n    source: testsrc\n');
    garage = await startServer(lan, lan.hosts[0]!, ['--config', config, '--name', 'garage']);
    await startServer(lan, lan.hosts[0]!, ['--no-mdns', '--name', 'quiet'], false);
  }, 60_000);
  afterAll(async () => {
    await lan?.close();
  });

  it('finds the server announced in the namespace (--json), and the address it shows works for the other commands', async () => {
    const r = await cliIn(lan, lan.hosts[1]!, ['cameras', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const address = `${lan.hosts[0]!.address}:${garage.tcp}`;
    expect(JSON.parse(r.stdout)).toEqual([
      {
        name: 'garage',
        address,
        addresses: [lan.hosts[0]!.address],
        tcpPort: garage.tcp,
        tls: false,
        http: `http://${lan.hosts[0]!.address}:${garage.http}/`,
        cameras: ['front', 'door'],
        cameraCount: 2,
      },
    ]);
    const listed = await cliIn(lan, lan.hosts[1]!, ['cameras', address]);
    expect(listed.stdout).toBe('front (default)\ndoor\n');
    const cwd = tempDir();
    const shot = await cliIn(lan, lan.hosts[1]!, ['--camera', 'door', 'snapshot', address, '-o', 'door.jpg'], cwd);
    expect(shot.stderr).toBe('');
    expect(shot.code).toBe(0);
    expect(readFileSync(join(cwd, 'door.jpg')).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('prints a table of name, address, cameras and page', async () => {
    const r = await cliIn(lan, lan.hosts[1]!, ['cameras']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const a = lan.hosts[0]!.address;
    const row = ['garage', `${a}:${garage.tcp}`, 'front, door', `http://${a}:${garage.http}/`];
    const widths = [['NAME', 'garage'], ['ADDRESS', row[1]!], ['CAMERAS', row[2]!]].map((cells) => Math.max(...cells.map((c) => c.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ');
    expect(r.stdout).toBe(`${line(['NAME', 'ADDRESS', 'CAMERAS', 'PAGE'])}\n${line(row)}\n`);
  });

  it('shows what a hostile responder announces with its control characters visible', async () => {
    const responder = startIn(lan, lan.hosts[0]!, [
      '--input-type=module',
      '-e',
      `import makeMdns from 'multicast-dns';
       const m = makeMdns();
       const name = 'evil\\u001b[2J';
       m.on('query', (q) => {
         if (!q.questions.some((x) => x.name === '_edgecam._tcp.local')) return;
         m.respond([
           { name: '_edgecam._tcp.local', type: 'PTR', ttl: 120, data: name + '._edgecam._tcp.local' },
           { name: name + '._edgecam._tcp.local', type: 'SRV', ttl: 120, data: { port: 1234, target: 'evil.local' } },
           { name: name + '._edgecam._tcp.local', type: 'TXT', ttl: 120, data: ['c0=\\u001b]0;pwned\\u0007', 'http=80', 'path=/\\u001b[31m'] },
           { name: 'evil.local', type: 'A', ttl: 120, data: '10.77.0.1' },
         ]);
       });
       m.on('ready', () => console.log('ready'));
       process.on('SIGTERM', () => m.destroy(() => process.exit(0)));`,
    ]);
    await waitFor(() => responder.out().includes('ready'), 'the responder', 15_000);
    const table = await cliIn(lan, lan.hosts[1]!, ['cameras']);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(table.stdout).toMatch(/^evil\\x1b\[2J +10\.77\.0\.1:1234 +\\x1b\]0;pwned\\x07 +http:\/\/10\.77\.0\.1:80\/$/m);
    const json = await cliIn(lan, lan.hosts[1]!, ['cameras', '--json']);
    expect(json.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect((JSON.parse(json.stdout) as { name: string; cameras: string[] }[]).find((s) => s.name.startsWith('evil'))).toMatchObject({ name: 'evil\u001b[2J', cameras: ['\u001b]0;pwned\u0007'] });
    responder.child.kill('SIGTERM');
  });

  it('asks 127.0.0.1 as before when --port or EDGECAM_PORT (or --host) names the server', async () => {
    const here = await cliIn(lan, lan.hosts[0]!, ['--port', String(garage.tcp), 'cameras']);
    expect(here.stdout).toBe('front (default)\ndoor\n');
    const there = await cliIn(lan, lan.hosts[1]!, ['--port', String(garage.tcp), 'cameras']);
    expect(there.stderr).toBe(`edgecam: could not connect to 127.0.0.1:${garage.tcp}: connection refused (is the server running, and on this port?)\n`);
    expect(there.code).toBe(3);
    const byVariable = await cliIn(lan, lan.hosts[0]!, ['cameras'], tempDir(), { EDGECAM_PORT: String(garage.tcp) });
    expect(byVariable.stdout).toBe('front (default)\ndoor\n');
    // An empty variable is unset, as for every flag: the LAN is asked.
    const empty = await cliIn(lan, lan.hosts[1]!, ['cameras', '--json'], tempDir(), { EDGECAM_HOST: '', EDGECAM_PORT: '' });
    expect((JSON.parse(empty.stdout) as { name: string }[]).map((s) => s.name)).toEqual(['garage']);
  });
});

describe('edgecam cameras with no address, where nothing answers', () => {
  it('says so, with what to check, and exits 3 (--json prints an empty list)', async () => {
    const lan = createLan({ hosts: 1 });
    try {
      const sentence =
        'edgecam: no edgecam-server answered on the LAN within 0.5 s: check that one runs on this network with mDNS on (not --no-mdns, not --host 127.0.0.1), wait longer (--wait 5s), or give its address (edgecam cameras HOST[:PORT])\n';
      const r = await cliIn(lan, lan.hosts[0]!, ['cameras', '--wait', '500ms']);
      expect(r).toMatchObject({ code: 3, stdout: '', stderr: sentence });
      const j = await cliIn(lan, lan.hosts[0]!, ['cameras', '--json', '--wait', '0.5']);
      expect(j).toMatchObject({ code: 3, stdout: '[]\n', stderr: sentence });
    } finally {
      await lan.close();
    }
  });

  it('names the missing multicast route when there is none', async () => {
    const lan = createLan({ hosts: 1, multicastRoute: false });
    try {
      const r = await cliIn(lan, lan.hosts[0]!, ['cameras']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/^edgecam: cannot look for servers on the LAN: no route for mDNS multicast \(224\.0\.0\.251, ENETUNREACH\): .*; or give the server's address \(edgecam cameras HOST\[:PORT\]\)\n$/);
    } finally {
      await lan.close();
    }
  });
});

describe('the LAN flags of edgecam cameras', () => {
  let lan: TestLan;
  beforeAll(() => {
    lan = createLan({ hosts: 1 });
  });
  afterAll(async () => {
    await lan?.close();
  });

  it.each([
    [['cameras', '--wait', '0'], 'edgecam: invalid value "0" for --wait: expected a duration above 0, at most a minute, such as 2s, 5 or 500ms\n'],
    [['cameras', '--interface', 'wlan9', '--wait', '1s'], 'edgecam: --interface: no interface "wlan9" with an IPv4 address here: name one of lo, lan0, lan1, or an IPv4 address of one\n'],
    [['cameras', '127.0.0.1', '--wait', '1s'], 'edgecam: --wait and --interface are for looking on the LAN: leave out the address (and --host, --port), or leave them out\n'],
  ])('refuses %j', async (args, stderr) => {
    const r = await cliIn(lan, lan.hosts[0]!, args);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr });
  });
});
