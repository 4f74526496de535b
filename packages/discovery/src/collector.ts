// What browse() and resolve() learn from the responses they hear, kept within fixed bounds
// whatever peers send: at most MAX_SERVERS instances and MAX_HOSTS host names, MAX_ADDRESSES
// addresses each, TXT fields decoded and copied at once (no view into a packet is kept). Pure:
// packets in, servers out.
import { isIP } from 'node:net';
import type { Answer, Packet, StringAnswer } from 'dns-packet';
import { z } from 'zod';
import { EDGECAM_SERVICE, instanceOf, sameName } from './names.js';
import { decodeEdgecamTxt, type EdgecamTxt } from './txt-record.js';

/** Instances kept; more are ignored (and counted). */
export const MAX_SERVERS = 64;
/** Instances kept from one source address, so that one noisy host cannot crowd the others out. */
export const MAX_SERVERS_PER_SOURCE = 16;
/** Host names whose addresses are kept. */
export const MAX_HOSTS = 64;
/** Addresses kept per host name. */
export const MAX_ADDRESSES = 8;
/** Records read from one packet; a packet holds a few dozen at most when honest. */
export const MAX_RECORDS_PER_PACKET = 256;

/** An edgecam server found on the LAN. */
export interface DiscoveredServer extends EdgecamTxt {
  /** Its instance name (the server's `name`), as the peer sent it: show it with control characters made visible. */
  name: string;
  /** The address to connect to: the one the answer came from when the server names it, else its first. */
  host: string;
  /** Every address the server announced (IPv4 and IPv6), `host` first. */
  addresses: string[];
  /** The host name its SRV records point at (`edgecam-garage.local`). */
  hostname: string;
  /** Its TCP port (legacy and v2 clients). */
  tcpPort: number;
}

interface Instance {
  name: string;
  /** The address whose answer admitted it. */
  admittedBy: string;
  srv?: { port: number; target: string };
  txt?: EdgecamTxt;
  /** Where the SRV came from. */
  from?: string;
}

const srvData = z.object({ port: z.number().int().min(1).max(65535), target: z.string().min(1).max(255) });
const txtData = z.array(z.instanceof(Uint8Array)).max(1024);

/** Collects responses; `servers()` lists the complete ones. */
export class ServerCollector {
  private readonly instances = new Map<string, Instance>();
  private readonly hosts = new Map<string, string[]>();
  private readonly wanted = new Set<string>();
  /** Instances per admitting address; no more entries than instances. */
  private readonly perSource = new Map<string, number>();
  /** Instances and hosts that did not fit, and records that were not what their type says. */
  ignored = 0;

  /** Reads one response packet heard from `from` (its source address). */
  add(packet: Packet, from: string): void {
    const records = [...(packet.answers ?? []), ...(packet.additionals ?? [])].slice(0, MAX_RECORDS_PER_PACKET);
    // In this order, whatever the packet's: PTRs admit instances, their SRVs name the hosts
    // whose addresses are kept (others' address records, the LAN's usual chatter, are not).
    for (const r of records) if (r.type === 'PTR') this.ptr(r, from);
    for (const r of records) if (r.type === 'SRV') this.srv(r, from);
    for (const r of records) if (r.type === 'TXT') this.txt(r);
    for (const r of records) if (r.type === 'A' || r.type === 'AAAA') this.address(r);
  }

  /** Keeps the addresses of this host name too (resolve() of a plain `NAME.local`). */
  want(hostname: string): void {
    this.wanted.add(hostname.toLowerCase());
  }

  /** The servers whose port and at least one address are known, by name. */
  servers(): DiscoveredServer[] {
    return [...this.instances.values()].flatMap((i) => {
      const s = this.server(i);
      return s ? [s] : [];
    }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The named server, once complete. */
  find(name: string): DiscoveredServer | undefined {
    const i = this.instances.get(name.toLowerCase());
    return i && this.server(i);
  }

  /** The addresses heard for a host name (`garage.local`). */
  addressesOf(hostname: string): string[] {
    return [...(this.hosts.get(hostname.toLowerCase()) ?? [])];
  }

  /** What is still to ask for: instances without SRV/TXT, SRV targets without addresses. */
  missing(): { instances: string[]; hosts: string[] } {
    const list = [...this.instances.values()];
    return {
      instances: list.filter((i) => !i.srv || !i.txt).map((i) => i.name),
      hosts: list.flatMap((i) => (i.srv && !this.hosts.has(i.srv.target.toLowerCase()) ? [i.srv.target] : [])),
    };
  }

  private server(i: Instance): DiscoveredServer | undefined {
    if (!i.srv) return undefined;
    const addresses = this.hosts.get(i.srv.target.toLowerCase()) ?? [];
    if (addresses.length === 0) return undefined;
    const ordered = i.from !== undefined && addresses.includes(i.from) ? [i.from, ...addresses.filter((a) => a !== i.from)] : addresses;
    const txt = i.txt ?? { httpPort: null, path: '/', scheme: 'http', tls: false, cameras: [], cameraCount: 0 };
    return { name: i.name, host: ordered[0]!, addresses: ordered, hostname: i.srv.target, tcpPort: i.srv.port, ...txt, cameras: [...txt.cameras] };
  }

  /** The instance of a full name, admitted when there is room; undefined otherwise. */
  /** The instance of a full name; admitted (when `from` is given and there is room) if new. */
  private instance(fullName: string, from?: string): Instance | undefined {
    const name = instanceOf(fullName, EDGECAM_SERVICE);
    if (name === undefined) return undefined;
    const key = name.toLowerCase();
    const known = this.instances.get(key);
    if (known || from === undefined) return known;
    const fromHere = this.perSource.get(from) ?? 0;
    if (this.instances.size >= MAX_SERVERS || fromHere >= MAX_SERVERS_PER_SOURCE) {
      this.ignored++;
      return undefined;
    }
    const created: Instance = { name, admittedBy: from };
    this.instances.set(key, created);
    this.perSource.set(from, fromHere + 1);
    return created;
  }

  private forget(key: string): void {
    const i = this.instances.get(key);
    if (!i) return;
    this.instances.delete(key);
    const left = (this.perSource.get(i.admittedBy) ?? 1) - 1;
    if (left > 0) this.perSource.set(i.admittedBy, left);
    else this.perSource.delete(i.admittedBy);
  }

  private ptr(r: StringAnswer, from: string): void {
    if (!sameName(r.name, EDGECAM_SERVICE) || typeof r.data !== 'string') return;
    const name = instanceOf(r.data, EDGECAM_SERVICE);
    if (name === undefined) return;
    // A goodbye: the server has left.
    if (r.ttl === 0) this.forget(name.toLowerCase());
    else this.instance(r.data, from);
  }

  private srv(r: Answer & { type: 'SRV' }, from: string): void {
    if (r.ttl === 0) {
      const name = instanceOf(r.name, EDGECAM_SERVICE);
      return name === undefined ? undefined : this.forget(name.toLowerCase());
    }
    const i = this.instance(r.name, from);
    if (!i) return;
    const data = srvData.safeParse(r.data);
    if (!data.success) return void this.ignored++;
    i.srv = { port: data.data.port, target: data.data.target };
    i.from = from;
  }

  private txt(r: Answer & { type: 'TXT' }): void {
    const i = this.instance(r.name);
    if (!i) return;
    const data = txtData.safeParse(r.data);
    if (!data.success) return void this.ignored++;
    i.txt = decodeEdgecamTxt(data.data);
  }

  private address(r: StringAnswer): void {
    if (typeof r.data !== 'string' || isIP(r.data) === 0 || r.name.length > 255) return void this.ignored++;
    const key = r.name.toLowerCase();
    let list = this.hosts.get(key);
    if (!list) {
      if (!this.wanted.has(key) && ![...this.instances.values()].some((i) => i.srv?.target.toLowerCase() === key)) return;
      if (this.hosts.size >= MAX_HOSTS) return void this.ignored++;
      list = [];
      this.hosts.set(key, list);
    }
    if (r.ttl === 0) {
      const at = list.indexOf(r.data);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.hosts.delete(key);
      return;
    }
    if (!list.includes(r.data) && list.length < MAX_ADDRESSES) list.push(r.data);
  }
}
