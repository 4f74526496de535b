// announce, browse and resolve for real, between two network namespaces joined by a veth pair
// (a LAN of the test's own: no packet reaches the machine's network). Needs root, as CI has.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, type TestLan } from '../src/netns.js';
import { MAX_SERVERS_PER_SOURCE } from '../src/collector.js';
import { agent, type Agent, type AgentEvent } from './support/agents.js';

type Server = { name: string; host: string; tcpPort: number; httpPort: number | null; cameras: string[]; cameraCount: number };
const servers = (e: AgentEvent) => e.servers as Server[];
const GARAGE = { name: 'garage', tcpPort: 6810, httpPort: 8080, cameras: ['front', 'door'] };

describe('two hosts on a LAN', () => {
  let lan: TestLan;
  const started: Agent[] = [];
  const run = (host: 0 | 1, role: string, ...args: string[]) => {
    const a = agent(lan, lan.hosts[host]!, role, ...args);
    started.push(a);
    return a;
  };

  beforeAll(() => {
    lan = createLan();
  });
  afterAll(async () => {
    await Promise.all(started.map((a) => a.stop()));
    await lan?.close();
  });

  it('browse on one host finds the server announced on the other, with its cameras and ports', async () => {
    const garage = run(0, 'announce', JSON.stringify(GARAGE));
    await garage.next((e) => e.event === 'announced');
    const found = await run(1, 'browse', JSON.stringify({ timeoutMs: 1500 })).next((e) => e.event === 'servers');
    expect(servers(found)).toEqual([
      {
        name: 'garage',
        host: lan.hosts[0]!.address,
        addresses: [lan.hosts[0]!.address],
        hostname: 'edgecam-garage.local',
        tcpPort: 6810,
        httpPort: 8080,
        path: '/',
        scheme: 'http',
        tls: false,
        cameras: ['front', 'door'],
        cameraCount: 2,
      },
    ]);
    expect(garage.events.filter((e) => e.event === 'error')).toEqual([]);
  });

  it('resolve finds NAME.local as the server\'s address and TCP port', async () => {
    const r = await run(1, 'resolve', 'garage.local').next((e) => e.event === 'resolved' || e.event === 'error');
    expect(r).toEqual({ event: 'resolved', host: lan.hosts[0]!.address, port: 6810 });
  });

  it('answers a one-shot query from another port to the querier itself, its id and question repeated, TTLs at most 10 s', async () => {
    const r = await run(1, 'oneshot', 'garage._edgecam._tcp.local', 'SRV').next((e) => e.event === 'answer');
    expect(r).toEqual({
      event: 'answer',
      from: lan.hosts[0]!.address,
      id: 4242,
      questions: [{ name: 'garage._edgecam._tcp.local', type: 'SRV', class: 'IN' }],
      answers: [{ name: 'garage._edgecam._tcp.local', type: 'SRV', ttl: 10, data: { priority: 0, weight: 0, port: 6810, target: 'edgecam-garage.local' } }],
    });
  });

  it('resolve finds a plain mDNS host of that name, without a port', async () => {
    const host = run(0, 'host', 'nas.local', '10.77.0.1');
    await host.next((e) => e.event === 'ready');
    const r = await run(1, 'resolve', 'nas').next((e) => e.event === 'resolved' || e.event === 'error');
    expect(r).toEqual({ event: 'resolved', host: '10.77.0.1', port: null });
  });

  it('resolve says what to check when nothing answers', async () => {
    const r = await run(1, 'resolve', 'nobody.local').next((e) => e.event === 'resolved' || e.event === 'error');
    expect(r).toEqual({
      event: 'error',
      code: 'NOT_FOUND',
      message: 'nothing on the LAN answered for nobody.local within 3 s: check that the server runs with mDNS on and is on this network, or give its IP address',
    });
  });

  it('a new camera list reaches the next browse', async () => {
    const kitchen = run(0, 'announce', JSON.stringify({ ...GARAGE, name: 'kitchen', tcpPort: 6820, cameras: ['oven'] }));
    await kitchen.next((e) => e.event === 'announced');
    kitchen.child.stdin!.write('update oven,sink,door\n');
    // Browsed until the update shows: the announcement of it and a browse may cross.
    for (;;) {
      const found = servers(await run(1, 'browse', JSON.stringify({ timeoutMs: 1000 })).next((e) => e.event === 'servers'));
      const k = found.find((s) => s.name === 'kitchen');
      if (k && k.cameras.length === 3) {
        expect(k).toMatchObject({ tcpPort: 6820, cameras: ['oven', 'sink', 'door'], cameraCount: 3 });
        break;
      }
    }
  });

  it('close() says goodbye: every record again with TTL 0', async () => {
    const listener = run(1, 'listen');
    await listener.next((e) => e.event === 'listening');
    const shed = run(0, 'announce', JSON.stringify({ ...GARAGE, name: 'shed', tcpPort: 6830 }));
    await shed.next((e) => e.event === 'announced');
    await shed.stop();
    const bye = await listener.next((e) => e.event === 'records' && (e.records as { name: string; ttl: number }[]).some((r) => r.name === 'shed._edgecam._tcp.local' && r.ttl === 0));
    const records = bye.records as { name: string; type: string; ttl: number }[];
    expect(records.map((r) => r.ttl)).toEqual(records.map(() => 0));
    expect(records.map((r) => `${r.name} ${r.type}`)).toEqual(
      expect.arrayContaining(['_edgecam._tcp.local PTR', 'shed._edgecam._tcp.local SRV', 'shed._edgecam._tcp.local TXT', 'shed._http._tcp.local SRV', 'edgecam-shed.local A']),
    );
  });

  it('browse keeps its bounds and still finds the real server while a hostile responder floods garbage', async () => {
    // On the browser's host: its flood comes from another address than the real server's.
    const hostile = run(1, 'hostile');
    await hostile.next((e) => e.event === 'ready');
    const browser = run(1, 'browse', JSON.stringify({ timeoutMs: 2000 }));
    const found = servers(await browser.next((e) => e.event === 'servers', 30_000));
    await hostile.next((e) => e.event === 'flooded');
    await hostile.stop();
    expect(found.filter((s) => s.host !== lan.hosts[0]!.address).length).toBeLessThanOrEqual(MAX_SERVERS_PER_SOURCE);
    expect(found.find((s) => s.name === 'garage')).toMatchObject({ host: lan.hosts[0]!.address, tcpPort: 6810, cameras: ['front', 'door'] });
    // The fake servers' names come back as sent, control characters and all, for the caller to show escaped.
    expect(found.some((s) => s.name.startsWith('fake-') && s.name.endsWith('\u001b[2J'))).toBe(true);
    expect(found.find((s) => s.name === 'huge')).toBeUndefined(); // a TXT without SRV is no server
    expect(browser.stderr()).toBe('');
  });
});

describe('a host whose network cannot carry mDNS', () => {
  it('announce reports SOCKET once, and goes on running, when UDP 5353 is held by a program that does not share it', async () => {
    const lan = createLan({ hosts: 1 });
    try {
      const holder = agent(lan, lan.hosts[0]!, 'hold');
      await holder.next((e) => e.event === 'holding');
      const a = agent(lan, lan.hosts[0]!, 'announce', JSON.stringify(GARAGE));
      const err = await a.next((e) => e.event === 'error');
      expect(err).toMatchObject({ code: 'SOCKET', message: expect.stringContaining('EADDRINUSE') });
      const b = await agent(lan, lan.hosts[0]!, 'browse', '{}').next((e) => e.event === 'error' || e.event === 'servers');
      expect(b).toMatchObject({ event: 'error', code: 'SOCKET' });
      await a.stop();
      expect(a.events.map((e) => e.event)).toEqual(['started', 'error', 'closed']);
    } finally {
      await lan.close();
    }
  });

  it('announce reports SEND once, naming the missing route, when there is no route for multicast', async () => {
    const lan = createLan({ hosts: 1, multicastRoute: false });
    try {
      const a = agent(lan, lan.hosts[0]!, 'announce', JSON.stringify(GARAGE));
      const err = await a.next((e) => e.event === 'error');
      expect(err).toMatchObject({ code: 'SEND', message: expect.stringContaining('no route for mDNS multicast (224.0.0.251, ENETUNREACH)') });
      const b = await agent(lan, lan.hosts[0]!, 'browse', '{}').next((e) => e.event === 'error' || e.event === 'servers');
      expect(b).toMatchObject({ event: 'error', code: 'SEND' });
      await a.stop();
      expect(a.events.map((e) => e.event)).toEqual(['started', 'error', 'closed']);
    } finally {
      await lan.close();
    }
  });
});
