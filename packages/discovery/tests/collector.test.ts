import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import packet from 'dns-packet';
import { MAX_ADDRESSES, MAX_SERVERS, ServerCollector } from '../src/index.js';
import { MAX_HOSTS, MAX_SERVERS_PER_SOURCE } from '../src/collector.js';
import { allRecords, type Announced } from '../src/records.js';
import { hex } from './support/hex.js';

const server = (name: string, over: Partial<Announced> = {}): Announced => ({
  name,
  tcpPort: 6810,
  httpPort: 8080,
  path: '/',
  scheme: 'http',
  tls: false,
  cameras: ['front'],
  cameraCount: 1,
  addresses: ['10.0.0.5'],
  ...over,
});

/** The packet as a browser's socket gets it: encoded, then decoded. */
const heard = (answers: packet.Answer[]) => packet.decode(packet.encode({ type: 'response', answers }));

// A peer's answer: a PTR to an instance named "x ESC [2J" (a terminal's clear-screen), and its
// SRV with port 0, which no server can have.
const HOSTILE_PTR_AND_PORT_0 = hex`
  0000 8400 0000 0002 0000 0000                    // id 0, response + authoritative, 0 questions, 2 answers
  08 5f6564676563616d 04 5f746370 05 6c6f63616c 00 // @12 "_edgecam._tcp.local"
  000c 0001 00001194 0008                          // PTR, IN, TTL 4500, 8 bytes
  05 781b5b324a c00c                               // @43 "x\x1b[2J" + pointer to @12
  c02b                                             // the instance name (pointer to @43)
  0021 8001 00000078 000a                          // SRV, IN + cache-flush, TTL 120, 10 bytes
  0000 0000 0000                                   // priority 0, weight 0, port 0
  01 68 c01a                                       // "h" + pointer to "local" (@26)
`;

describe('what a browser keeps from the answers it hears', () => {
  it('reads a server from one announcement packet', () => {
    const c = new ServerCollector();
    c.add(heard(allRecords(server('garage'))), '10.0.0.5');
    expect(c.servers().map((s) => [s.name, s.host, s.tcpPort, s.cameras])).toEqual([['garage', '10.0.0.5', 6810, ['front']]]);
  });

  it('lists a server once its SRV and an address are known, whatever order they come in', () => {
    const records = allRecords(server('garage'));
    const c = new ServerCollector();
    c.add(heard(records.filter((r) => r.type === 'PTR')), '10.0.0.5');
    expect(c.servers()).toEqual([]);
    expect(c.missing().instances).toEqual(['garage']);
    c.add(heard(records.filter((r) => r.type === 'SRV' || r.type === 'TXT')), '10.0.0.5');
    expect(c.servers()).toEqual([]);
    expect(c.missing().hosts).toEqual(['edgecam-garage.local']);
    c.add(heard(records.filter((r) => r.type === 'A')), '10.0.0.5');
    expect(c.servers().map((s) => s.name)).toEqual(['garage']);
  });

  it('puts the address the answer came from first', () => {
    const c = new ServerCollector();
    c.add(heard(allRecords(server('garage', { addresses: ['172.17.0.1', '10.0.0.5'] }))), '10.0.0.5');
    expect(c.find('garage')?.addresses).toEqual(['10.0.0.5', '172.17.0.1']);
  });

  it('forgets a server that says goodbye', () => {
    const c = new ServerCollector();
    c.add(heard(allRecords(server('garage'))), '10.0.0.5');
    c.add(heard(allRecords(server('garage'), true)), '10.0.0.5');
    expect(c.servers()).toEqual([]);
  });

  it('keeps a hostile instance name as sent (for the caller to show escaped) and refuses an SRV with port 0', () => {
    const c = new ServerCollector();
    c.add(packet.decode(HOSTILE_PTR_AND_PORT_0), '10.0.0.66');
    expect(c.missing().instances).toEqual(['x\u001b[2J']);
    expect(c.servers()).toEqual([]);
    expect(c.ignored).toBe(1);
  });
});

describe('bounds, whatever peers send', () => {
  it(`keeps at most ${MAX_SERVERS_PER_SOURCE} servers from one address, so a flood leaves room for the others`, () => {
    const c = new ServerCollector();
    for (let i = 0; i < 2000; i++) c.add(heard(allRecords(server(`flood-${i}`, { addresses: ['10.0.0.66'] }))), '10.0.0.66');
    c.add(heard(allRecords(server('garage'))), '10.0.0.5');
    expect(c.servers()).toHaveLength(MAX_SERVERS_PER_SOURCE + 1);
    expect(c.find('garage')?.host).toBe('10.0.0.5');
    expect(c.ignored).toBeGreaterThanOrEqual(2000 - MAX_SERVERS_PER_SOURCE);
  });

  it(`keeps at most ${MAX_SERVERS} servers in all, from however many addresses`, () => {
    const c = new ServerCollector();
    for (let i = 0; i < 2000; i++) {
      const address = `10.1.${i >> 8}.${i & 255}`;
      c.add(heard(allRecords(server(`flood-${i}`, { addresses: [address] }))), address);
    }
    expect(c.servers()).toHaveLength(MAX_SERVERS);
    expect(c.ignored).toBeGreaterThanOrEqual(2000 - MAX_SERVERS);
  });

  it('makes room again for an address whose servers said goodbye', () => {
    const c = new ServerCollector();
    for (let i = 0; i < MAX_SERVERS_PER_SOURCE; i++) c.add(heard(allRecords(server(`s${i}`))), '10.0.0.5');
    c.add(heard(allRecords(server('s0'), true)), '10.0.0.5');
    c.add(heard(allRecords(server('late'))), '10.0.0.5');
    expect(c.find('late')).toBeDefined();
    expect(c.servers()).toHaveLength(MAX_SERVERS_PER_SOURCE);
  });

  it(`keeps at most ${MAX_ADDRESSES} addresses of a host`, () => {
    const addresses = Array.from({ length: 100 }, (_, i) => `10.2.0.${i + 1}`);
    const c = new ServerCollector();
    c.add(heard(allRecords(server('garage', { addresses }))), '10.2.0.1');
    expect(c.find('garage')?.addresses).toEqual(addresses.slice(0, MAX_ADDRESSES));
  });

  it('keeps no address of a host that no server names (the LAN\'s usual chatter)', () => {
    const c = new ServerCollector();
    for (let i = 0; i < 500; i++) c.add(heard([{ name: `printer-${i}.local`, type: 'A', ttl: 120, data: `10.3.${i >> 8}.${i & 255}` }]), '10.3.0.1');
    c.add(heard(allRecords(server('garage'))), '10.0.0.5');
    expect(c.find('garage')?.host).toBe('10.0.0.5');
    expect(c.addressesOf('printer-1.local')).toEqual([]);
  });

  it(`keeps at most ${MAX_HOSTS} host names, even those asked for`, () => {
    const c = new ServerCollector();
    for (let i = 0; i < 200; i++) c.want(`h${i}.local`);
    for (let i = 0; i < 200; i++) c.add(heard([{ name: `h${i}.local`, type: 'A', ttl: 120, data: '10.4.0.1' }]), '10.4.0.1');
    expect(Array.from({ length: 200 }, (_, i) => c.addressesOf(`h${i}.local`).length).filter((n) => n > 0)).toHaveLength(MAX_HOSTS);
  });

  it('reads a TXT record of thousands of strings without keeping them', () => {
    const txt = Array.from({ length: 4000 }, (_, i) => Buffer.from(`c${i}=${'y'.repeat(8)}`));
    const records = allRecords(server('garage')).map((r) => (r.type === 'TXT' && r.name.startsWith('garage._edgecam') ? { ...r, data: txt } : r));
    const c = new ServerCollector();
    c.add(heard(records), '10.0.0.5');
    expect(c.find('garage')?.cameras.length).toBeLessThanOrEqual(64);
  });

  it('never throws on what dns-packet makes of random bytes, and stays within its bounds', () => {
    const c = new ServerCollector();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 600 }), (bytes) => {
        let decoded: packet.DecodedPacket;
        try {
          decoded = packet.decode(Buffer.from(bytes));
        } catch {
          return; // multicast-dns drops what dns-packet cannot decode (a 'warning')
        }
        c.add(decoded, '10.9.9.9');
        expect(c.servers().length).toBeLessThanOrEqual(MAX_SERVERS);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on records whose data is not what their type says', () => {
    const c = new ServerCollector();
    const odd = [
      { name: 'a._edgecam._tcp.local', type: 'SRV', data: 'not an object' },
      { name: 'a._edgecam._tcp.local', type: 'TXT', data: { strings: 1 } },
      { name: '_edgecam._tcp.local', type: 'PTR', data: 42 },
      { name: 'a.local', type: 'A', data: 'not an address' },
    ] as unknown as packet.Answer[];
    expect(() => c.add({ answers: odd }, '10.0.0.1')).not.toThrow();
    expect(c.servers()).toEqual([]);
  });
});
