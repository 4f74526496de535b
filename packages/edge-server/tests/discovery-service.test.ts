// The discovery service: the real server, started inside network namespaces made by the test (a
// LAN of its own joined by a veth pair), announces itself over mDNS, stays quiet when told to or
// when it listens on loopback only, says goodbye at stop, and serves on with one clear log line
// when the network cannot carry mDNS. Needs root (ip netns), as CI has.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, type LanHost, type TestLan } from '@edgecam/discovery/netns';
import { waitUntil } from './support/wait.js';

const CLI = fileURLToPath(new URL('../bin/edgecam-server.js', import.meta.url));
const SMALL = ['--port', '0', '--size', '160x120', '--fps', '5'];
const HTTP = ['--http-port', '0'];

interface Started {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  /** The first log line whose msg matches. */
  line(msg: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  ports: { tcp: number; http: number | null };
  exited: Promise<number | null>;
}

/** Starts the built server in a namespace and waits until it listens. */
async function startServer(lan: TestLan, host: LanHost, args: string[]): Promise<Started> {
  const child = lan.spawn(host, process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    const parts = (rest + s).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = async (msg: RegExp, timeoutMs = 15_000) => {
    const what = () => `a log line ${msg} from ${args.join(' ')}; it logged ${JSON.stringify(lines)} ${stderr}`;
    await waitUntil(() => {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before ${what()}`);
      return lines.some((l) => msg.test(String(l.msg)));
    }, timeoutMs, what);
    return lines.find((l) => msg.test(String(l.msg)))!;
  };
  const listening = await line(/^listening$/);
  const port = (url: unknown) => (typeof url === 'string' ? Number(/:(\d+)\/?$/.exec(url)![1]) : null);
  return { child, lines, line, ports: { tcp: port(listening.tcp)!, http: port(listening.http) }, exited };
}

/** The mDNS log lines of a server: what a person reads about discovery. */
const mdnsLines = (s: Started) => s.lines.filter((l) => l.component === 'mdns');

/** A script run with node inside a namespace, importing @edgecam/discovery from this package. */
function nodeIn(lan: TestLan, host: LanHost, code: string): unknown {
  return JSON.parse(lan.run(host, process.execPath, ['--input-type=module', '-e', code]));
}

type Found = { name: string; host: string; tcpPort: number; httpPort: number | null; scheme: string; tls: boolean; cameras: string[] };
const browse = (lan: TestLan, host: LanHost) =>
  nodeIn(lan, host, `import { browse } from '@edgecam/discovery'; console.log(JSON.stringify(await browse({ timeoutMs: 2000 })));`) as Found[];

/** GET / from inside the namespace: the server still serves. */
const status = (lan: TestLan, host: LanHost, port: number) =>
  nodeIn(lan, host, `const r = await fetch('http://127.0.0.1:${port}/status'); console.log(JSON.stringify(r.status));`);

describe('a server on a LAN of two hosts', () => {
  let lan: TestLan;
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-mdns-'));

  beforeAll(() => {
    lan = createLan();
  });
  afterAll(async () => {
    await lan?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is found with its name, ports and cameras; --no-mdns and a loopback-only server are not', async () => {
    const config = join(dir, 'two-cameras.yaml');
    writeFileSync(config, 'cameras:\n  front:\n    source: testsrc\n  door:\n    source: testsrc\n');
    const [a] = lan.hosts;
    const garage = await startServer(lan, a!, [...SMALL, ...HTTP, '--config', config, '--name', 'garage']);
    const vault = await startServer(lan, a!, [...SMALL, '--no-http', '--tls-self-signed', '--tls-dir', dir, '--name', 'vault']);
    const quiet = await startServer(lan, a!, [...SMALL, ...HTTP, '--no-mdns', '--name', 'quiet']);
    const local = await startServer(lan, a!, [...SMALL, ...HTTP, '--host', '127.0.0.1', '--name', 'local']);
    await garage.line(/^announced on the LAN over mDNS as garage \(_edgecam\._tcp, _http\._tcp\)$/);
    await vault.line(/^announced on the LAN over mDNS as vault \(_edgecam\._tcp\)$/);
    await local.line(/^not announced on the LAN over mDNS/);

    const found = browse(lan, lan.hosts[1]!);
    expect(found.map((s) => s.name)).toEqual(['garage', 'vault']);
    expect(found[0]).toMatchObject({ host: a!.address, tcpPort: garage.ports.tcp, httpPort: garage.ports.http, scheme: 'http', tls: false, cameras: ['front', 'door'] });
    expect(found[1]).toMatchObject({ host: a!.address, tcpPort: vault.ports.tcp, httpPort: null, tls: true, cameras: ['default'] });

    expect(mdnsLines(quiet)).toEqual([]);
    expect(mdnsLines(local).map((l) => l.msg)).toEqual([
      'not announced on the LAN over mDNS: the server listens on 127.0.0.1 only (--host), which no other machine can reach; listen on 0.0.0.0 or a LAN address to be found',
    ]);
  });

  it('is a gateway’s source by name: edgecam://NAME.local is resolved over mDNS, port included', async () => {
    const [a, b] = lan.hosts;
    const device = await startServer(lan, a!, [...SMALL, '--no-http', '--name', 'porch']);
    await device.line(/^announced on the LAN over mDNS as porch/);
    const gateway = await startServer(lan, b!, ['--port', '0', ...HTTP, '--no-mdns', '--source', 'edgecam://porch.local']);
    // A snapshot through the gateway: it dials the device where mDNS says it is (its TCP port is not 6810).
    const got = nodeIn(
      lan,
      b!,
      `const r = await fetch('http://127.0.0.1:${gateway.ports.http}/snapshot.jpg');
       const jpeg = Buffer.from(await r.arrayBuffer());
       const s = await (await fetch('http://127.0.0.1:${gateway.ports.http}/status')).json();
       console.log(JSON.stringify({ status: r.status, type: r.headers.get('content-type'), soi: jpeg.subarray(0, 2).toString('hex'), source: s.source }));`,
    ) as { status: number; type: string; soi: string; source: { kind: string; width: number; state: string } };
    expect(got).toMatchObject({ status: 200, type: 'image/jpeg', soi: 'ffd8', source: { kind: 'edgecam', width: 160, state: 'running' } });
    expect(device.ports.tcp).not.toBe(6810);
    device.child.kill('SIGTERM');
    gateway.child.kill('SIGTERM');
    expect(await Promise.all([device.exited, gateway.exited])).toEqual([0, 0]);
  });

  it('says goodbye when it stops: its records again with TTL 0', async () => {
    const [a, b] = lan.hosts;
    const listener = lan.spawn(b!, process.execPath, [
      '--input-type=module',
      '-e',
      `import makeMdns from 'multicast-dns';
       const m = makeMdns();
       m.on('ready', () => console.log(JSON.stringify({ ready: true })));
       m.on('response', (r) => console.log(JSON.stringify({ records: [...r.answers, ...r.additionals].map((x) => [x.name, x.type, x.ttl]) })));
       process.on('SIGTERM', () => m.destroy(() => process.exit(0)));`,
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    let heard = '';
    listener.stdout!.setEncoding('utf8').on('data', (s: string) => (heard += s));
    await waitUntil(() => heard.includes('"ready"'), 15_000, 'the listener');
    const shed = await startServer(lan, a!, [...SMALL, ...HTTP, '--name', 'shed']);
    await shed.line(/^announced on the LAN over mDNS as shed/);
    shed.child.kill('SIGTERM');
    expect(await shed.exited).toBe(0);
    const goodbye = () =>
      heard
        .split('\n')
        .filter((l) => l.startsWith('{"records"'))
        .map((l) => (JSON.parse(l) as { records: [string, string, number][] }).records)
        .find((rs) => rs.some(([name, , ttl]) => name === 'shed._edgecam._tcp.local' && ttl === 0));
    await waitUntil(() => goodbye() !== undefined, 15_000, () => `a goodbye from shed; heard ${heard}`);
    expect(goodbye()!.every(([, , ttl]) => ttl === 0)).toBe(true);
    expect(goodbye()!.map(([name, type]) => `${name} ${type}`)).toEqual(expect.arrayContaining(['shed._edgecam._tcp.local SRV', 'shed._http._tcp.local SRV', 'edgecam-shed.local A']));
    listener.kill('SIGTERM');
  });
});

describe('a server where mDNS cannot work', () => {
  it('logs one line and serves on when UDP 5353 is held by a program that does not share it', async () => {
    const lan = createLan({ hosts: 1 });
    try {
      const [a] = lan.hosts;
      const holder = lan.spawn(a!, process.execPath, ['-e', `const s = require('dgram').createSocket('udp4'); s.bind(5353, () => console.log('holding'));`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let held = '';
      holder.stdout!.setEncoding('utf8').on('data', (s: string) => (held += s));
      await waitUntil(() => held.includes('holding'), 15_000, 'the holder of 5353');
      const s = await startServer(lan, a!, [...SMALL, ...HTTP, '--name', 'garage']);
      const warn = await s.line(/^mDNS: /);
      expect(warn).toMatchObject({
        level: 40,
        code: 'SOCKET',
        msg: 'mDNS: UDP port 5353 (mDNS) is held by a program that does not share it (EADDRINUSE): stop that program or make it share the port (SO_REUSEADDR); the server serves on without being found on the LAN (--no-mdns stops announcing)',
      });
      expect(status(lan, a!, s.ports.http!)).toBe(200);
      expect(mdnsLines(s)).toHaveLength(1);
    } finally {
      await lan.close();
    }
  });

  it('logs one line and serves on when there is no route for multicast', async () => {
    const lan = createLan({ hosts: 1, multicastRoute: false });
    try {
      const [a] = lan.hosts;
      const s = await startServer(lan, a!, [...SMALL, ...HTTP, '--name', 'garage']);
      const warn = await s.line(/^mDNS: /);
      expect(warn).toMatchObject({ level: 40, code: 'SEND', msg: expect.stringMatching(/^mDNS: no route for mDNS multicast \(224\.0\.0\.251, ENETUNREACH\): .*; the server serves on without being found on the LAN/) });
      expect(status(lan, a!, s.ports.http!)).toBe(200);
      expect(mdnsLines(s)).toHaveLength(1);
    } finally {
      await lan.close();
    }
  });

  it('logs one line and serves on when discovery: names an interface the machine does not have', async () => {
    const lan = createLan({ hosts: 1 });
    try {
      const [a] = lan.hosts;
      const dir = mkdtempSync(join(tmpdir(), 'edgecam-mdns-'));
      const config = join(dir, 'edgecam.yaml');
      writeFileSync(config, 'discovery:\n  interface: wlan9\n');
      const s = await startServer(lan, a!, [...SMALL, ...HTTP, '--config', config, '--name', 'garage']);
      const warn = await s.line(/^mDNS: /);
      expect(warn).toMatchObject({ level: 40, code: 'BAD_OPTIONS', msg: expect.stringContaining('no interface "wlan9" with an IPv4 address here') });
      expect(status(lan, a!, s.ports.http!)).toBe(200);
      rmSync(dir, { recursive: true, force: true });
    } finally {
      await lan.close();
    }
  });
});
