// announce(): answers for one edgecam server on the LAN. Sends its records at start (twice, a
// second apart, RFC 6762 8.3) and again whenever an interface comes up, answers queries for them,
// warns once when another responder claims the same name, and sends them with TTL 0 at close so
// that caches drop them at once.
import { isIP } from 'node:net';
import type { RemoteInfo } from 'node:dgram';
import type { Answer } from 'dns-packet';
import { DiscoveryError } from './errors.js';
import { localAddresses } from './interfaces.js';
import { openMdns, type MdnsSocket } from './mdns-socket.js';
import { checkLabel, EDGECAM_SERVICE, HTTP_SERVICE, hostTarget, instanceName, MAX_LABEL_BYTES, sameName } from './names.js';
import { MAX_RECORDS_PER_PACKET } from './collector.js';
import { allRecords, answersTo, type Announced } from './records.js';

export interface AnnounceOptions {
  /** The instance name, one DNS label: the server's name (`garage` is found as `garage._edgecam._tcp.local`). */
  name: string;
  /** The TCP port (legacy and v2 clients), announced as `_edgecam._tcp`. */
  tcpPort: number;
  /** The HTTP port, announced as `_http._tcp`; null or absent: no HTTP. */
  httpPort?: number | null;
  /** The page's path, `/` by default. */
  httpPath?: string;
  scheme?: 'http' | 'https';
  /** The cameras' names, the default first. */
  cameras: readonly string[];
  /** The TCP port speaks TLS. */
  tls?: boolean;
  /** Announce on this interface only (a name such as `eth0`, or one of its IPv4 addresses). */
  interface?: string;
  /**
   * The addresses to announce, or a function asked at each announcement (interfaces come and go);
   * default: every address of the machine (or of `interface`), loopback and IPv6 link-local left out.
   */
  addresses?: readonly string[] | (() => readonly string[]);
  /** Each kind of trouble once (until it clears): SOCKET (announcing stops), SEND (retried when an interface comes up), CONFLICT. */
  onError?: (err: DiscoveryError) => void;
  /** The records went out: at start, and again after a SEND error cleared. */
  onAnnounced?: (addresses: readonly string[]) => void;
}

/** A running announcement. */
export interface Announcement {
  readonly name: string;
  /** Announces a new list of cameras. */
  update(cameras: readonly string[]): void;
  /** Sends the goodbye (every record with TTL 0) and closes the socket. Idempotent. */
  close(): Promise<void>;
}

/** Answers sent per second at most, so that a flood of queries cannot make us flood the LAN. */
const ANSWERS_PER_SECOND = 20;
/** Questions of one query looked at; an honest query asks a few. */
const MAX_QUESTIONS = 64;
/** Legacy unicast answers carry a TTL of at most 10 s (RFC 6762, 6.7). */
const LEGACY_TTL = 10;
/** How long close() waits for the goodbye to be sent. */
const GOODBYE_WAIT_MS = 1000;

const CONTROL = /[\u0000-\u001f\u007f]/;

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DiscoveryError('BAD_OPTIONS', `${what} ${port} is not a port: give an integer from 1 to 65535`);
  return port;
}

function checkCameras(cameras: readonly string[]): string[] {
  for (const c of cameras) {
    if (c.length === 0 || CONTROL.test(c) || Buffer.byteLength(c) > MAX_LABEL_BYTES) {
      throw new DiscoveryError('BAD_OPTIONS', `camera name ${JSON.stringify(c)} cannot be announced: use 1 to ${MAX_LABEL_BYTES} bytes without control characters`);
    }
  }
  return [...cameras];
}

/** What the options announce, checked. */
function described(o: AnnounceOptions, cameras: readonly string[], addresses: readonly string[]): Announced {
  const path = o.httpPath ?? '/';
  if (!path.startsWith('/') || CONTROL.test(path) || Buffer.byteLength(path) > 200) {
    throw new DiscoveryError('BAD_OPTIONS', `HTTP path ${JSON.stringify(path)} cannot be announced: give one that starts with / and has at most 200 bytes`);
  }
  const bad = addresses.find((a) => isIP(a) === 0);
  if (bad !== undefined) throw new DiscoveryError('BAD_OPTIONS', `${JSON.stringify(bad)} is not an IP address: give the addresses the server can be reached at`);
  const list = checkCameras(cameras);
  return {
    name: checkLabel(o.name, 'server name'),
    tcpPort: checkPort(o.tcpPort, 'TCP port'),
    httpPort: o.httpPort === undefined || o.httpPort === null ? null : checkPort(o.httpPort, 'HTTP port'),
    path,
    scheme: o.scheme ?? 'http',
    tls: o.tls ?? false,
    cameras: list,
    cameraCount: list.length,
    addresses,
  };
}

/**
 * Announces one edgecam server over mDNS/DNS-SD: `_edgecam._tcp` (TCP port, TXT with the cameras)
 * and `_http._tcp` (HTTP port, `path=`). Bad options throw a BAD_OPTIONS DiscoveryError at once;
 * everything the network does later goes to `onError`, never thrown.
 */
export function announce(options: AnnounceOptions): Announcement {
  const given = options.addresses;
  const addressesNow = () => (typeof given === 'function' ? given() : (given ?? localAddresses(options.interface)));
  let current = described(options, options.cameras, addressesNow());
  const socket: MdnsSocket = openMdns(options.interface);
  const reported = new Set<string>();
  let dead = false;
  let announcedOnce = false;
  let closing: Promise<void> | null = null;
  const timers = new Set<NodeJS.Timeout>();

  const report = (err: DiscoveryError) => {
    if (reported.has(err.code)) return;
    reported.add(err.code);
    options.onError?.(err);
  };

  const sendAll = () => {
    if (dead || closing) return;
    current = { ...current, addresses: addressesNow() };
    const addresses = current.addresses;
    socket.respond({ answers: allRecords(current) }, undefined, (err) => {
      if (err) return report(err);
      // Said again after a failure, so a log shows that announcing works now.
      if (reported.delete('SEND') || !announcedOnce) options.onAnnounced?.(addresses);
      announcedOnce = true;
    });
  };
  const announceTwice = () => {
    sendAll();
    const t = setTimeout(() => {
      timers.delete(t);
      sendAll();
    }, 1000);
    t.unref();
    timers.add(t);
  };

  let budget = ANSWERS_PER_SECOND;
  const refill = setInterval(() => (budget = ANSWERS_PER_SECOND), 1000);
  refill.unref();

  socket.mdns.on('query', (query, rinfo: RemoteInfo) => {
    if (dead || closing || budget <= 0) return;
    const { answers, additionals } = answersTo(current, (query.questions ?? []).slice(0, MAX_QUESTIONS));
    if (answers.length === 0) return;
    budget--;
    if (rinfo.port === 5353) return socket.respond({ answers, additionals }, undefined, (err) => err && report(err));
    // A one-shot querier on another port (dig, a resolver): answered to it alone, question and id repeated.
    const short = (r: Answer): Answer => ({ ...r, ttl: Math.min('ttl' in r ? (r.ttl ?? LEGACY_TTL) : LEGACY_TTL, LEGACY_TTL), flush: false }) as Answer;
    socket.respond({ id: query.id ?? 0, questions: query.questions, answers: answers.map(short), additionals: additionals.map(short) }, rinfo, (err) => err && report(err));
  });

  // Another responder with our instance name and other data: both would be found, one of them wrongly.
  socket.mdns.on('response', (response, rinfo: RemoteInfo) => {
    for (const r of [...(response.answers ?? []), ...(response.additionals ?? [])].slice(0, MAX_RECORDS_PER_PACKET)) {
      if (r.type !== 'SRV' || r.ttl === 0) continue;
      for (const service of [EDGECAM_SERVICE, HTTP_SERVICE]) {
        if (!sameName(r.name, instanceName(current.name, service))) continue;
        const port = service === EDGECAM_SERVICE ? current.tcpPort : current.httpPort;
        const data = r.data as { port?: unknown; target?: unknown } | undefined;
        if (data?.port === port && typeof data.target === 'string' && sameName(data.target, hostTarget(current.name))) continue;
        report(new DiscoveryError('CONFLICT', `another mDNS responder (${rinfo.address}) announces the name ${current.name} with other data: give each server its own name`));
      }
    }
  });

  socket.ready.then(
    () => {
      announceTwice();
      // A new interface (the network came up after us): announce there too.
      socket.mdns.on('networkInterface', announceTwice);
    },
    (err: DiscoveryError) => {
      dead = true;
      report(err);
    },
  );

  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const t of timers) clearTimeout(t);
      clearInterval(refill);
      if (!dead && announcedOnce) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, GOODBYE_WAIT_MS);
          socket.respond({ answers: allRecords(current, true) }, undefined, () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      await socket.close();
    })();
    return closing;
  };

  return {
    name: current.name,
    update: (cameras) => {
      const list = checkCameras(cameras);
      current = { ...current, cameras: list, cameraCount: list.length };
      announceTwice();
    },
    close,
  };
}
