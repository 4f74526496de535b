// browse() and resolve(): ask the LAN, listen for a while, and read the answers through a
// ServerCollector, which keeps what any peer sends within fixed bounds.
import type { Question } from 'dns-packet';
import type { RemoteInfo } from 'node:dgram';
import { ServerCollector, type DiscoveredServer } from './collector.js';
import { DiscoveryError } from './errors.js';
import { openMdns } from './mdns-socket.js';
import { bareName, checkLabel, EDGECAM_SERVICE, instanceName } from './names.js';

export interface BrowseOptions {
  /** How long to listen for answers; default 2000 ms. */
  timeoutMs?: number;
  /** Ask on this interface only (a name such as `eth0`, or one of its IPv4 addresses). */
  interface?: string;
}

/** Asked again this often while listening: a multicast packet may be lost. */
const REPEAT_MS = 1000;
/** resolve(): how long a plain host answer waits for the server's own SRV, which says its port. */
const SRV_GRACE_MS = 300;

/** One listening session: questions sent at once and every REPEAT_MS, follow-up questions for what is missing. */
async function session(o: BrowseOptions, questions: Question[], onResponse: (c: ServerCollector) => void, collector = new ServerCollector()) {
  const timeoutMs = o.timeoutMs ?? 2000;
  if (!(timeoutMs > 0)) throw new DiscoveryError('BAD_OPTIONS', `timeout ${timeoutMs} ms is not a duration: give a number of milliseconds above 0`);
  const socket = openMdns(o.interface);
  try {
    await socket.ready;
  } catch (err) {
    await socket.close();
    throw err;
  }
  const asked = new Set<string>();
  // What the answers leave out (another responder's SRV without its addresses), asked once each.
  const followUp = () => {
    const { instances, hosts } = collector.missing();
    const more: Question[] = [];
    for (const i of instances) if (!asked.has(`i:${i}`) && asked.add(`i:${i}`)) more.push({ name: instanceName(i, EDGECAM_SERVICE), type: 'SRV' }, { name: instanceName(i, EDGECAM_SERVICE), type: 'TXT' });
    for (const h of hosts) if (!asked.has(`h:${h}`) && asked.add(`h:${h}`)) more.push({ name: h, type: 'A' }, { name: h, type: 'AAAA' });
    if (more.length > 0) socket.query(more, () => undefined);
  };
  socket.mdns.on('response', (packet, rinfo: RemoteInfo) => {
    collector.add(packet, rinfo.address);
    followUp();
    onResponse(collector);
  });
  const first = new Promise<void>((resolve, reject) => socket.query(questions, (err) => (err ? reject(err) : resolve())));
  const repeat = setInterval(() => socket.query(questions, () => undefined), REPEAT_MS);
  const stop = () => {
    clearInterval(repeat);
    return socket.close();
  };
  try {
    await first;
  } catch (err) {
    await stop();
    throw err;
  }
  return { collector, stop, timeoutMs };
}

/**
 * The edgecam servers that answer on the LAN within `timeoutMs`, by name. Rejects with a
 * DiscoveryError: SOCKET (UDP 5353 cannot be had), SEND (no multicast route), BAD_OPTIONS.
 */
export async function browse(o: BrowseOptions = {}): Promise<DiscoveredServer[]> {
  const s = await session(o, [{ name: EDGECAM_SERVICE, type: 'PTR' }], () => undefined);
  await new Promise((resolve) => setTimeout(resolve, s.timeoutMs));
  await s.stop();
  return s.collector.servers();
}

/** Where resolve() found a name: port null when only a host of that name answered, no edgecam server. */
export interface Resolved {
  host: string;
  port: number | null;
}

/**
 * `garage.local` (or `garage`) as an address: the edgecam server of that name (its address and
 * TCP port, from its SRV), else a host of that name on the LAN (port null). Rejects with
 * NOT_FOUND when nothing answers within `timeoutMs` (default 3000 ms).
 */
export async function resolve(name: string, o: BrowseOptions = {}): Promise<Resolved> {
  const bare = bareName(name);
  if (bare === undefined) throw new DiscoveryError('BAD_OPTIONS', `${JSON.stringify(name)} is not an mDNS name: give NAME or NAME.local`);
  checkLabel(bare, 'name');
  const full = instanceName(bare, EDGECAM_SERVICE);
  const host = `${bare}.local`;
  const collector = new ServerCollector();
  collector.want(host);
  const timeoutMs = o.timeoutMs ?? 3000;
  let settle: (r: Resolved | null) => void = () => undefined;
  const found = new Promise<Resolved | null>((r) => (settle = r));
  let grace: NodeJS.Timeout | undefined;
  const check = (c: ServerCollector) => {
    const server = c.find(bare);
    if (server) return settle({ host: server.host, port: server.tcpPort });
    const addresses = c.addressesOf(host);
    if (addresses.length > 0 && grace === undefined) grace = setTimeout(() => settle({ host: addresses[0]!, port: null }), SRV_GRACE_MS);
  };
  const questions: Question[] = [
    { name: full, type: 'SRV' },
    { name: full, type: 'TXT' },
    { name: host, type: 'A' },
    { name: host, type: 'AAAA' },
  ];
  const s = await session({ ...o, timeoutMs }, questions, check, collector);
  const timer = setTimeout(() => settle(null), timeoutMs);
  const result = await found;
  clearTimeout(timer);
  clearTimeout(grace);
  await s.stop();
  if (result === null) {
    throw new DiscoveryError('NOT_FOUND', `nothing on the LAN answered for ${host} within ${timeoutMs / 1000} s: check that the server runs with mDNS on and is on this network, or give its IP address`);
  }
  return result;
}
