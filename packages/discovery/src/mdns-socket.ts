// One multicast-dns socket, opened so that nothing it meets can throw out of an event handler:
// its 'error' (the port cannot be had) and 'warning' (an undecodable packet, a membership that
// failed) are always listened to, packets are sent only once it is bound, and a send that fails
// is reported as a DiscoveryError through the callback instead of thrown.
import makeMdns from 'multicast-dns';
import type { Answer, Question } from 'dns-packet';
import type { RemoteInfo } from 'node:dgram';
import { DiscoveryError, sendError, socketError } from './errors.js';
import { interfaceAddress } from './interfaces.js';

export type Mdns = ReturnType<typeof makeMdns>;
type Done = (err: DiscoveryError | null) => void;
/** A response as multicast-dns sends it; `id` and `questions` are for legacy unicast answers. */
export interface Response {
  answers: Answer[];
  additionals?: Answer[];
  id?: number;
  questions?: Question[];
}

export interface MdnsSocket {
  readonly mdns: Mdns;
  /** Resolves once the socket is bound to UDP 5353; rejects with a SOCKET DiscoveryError. */
  readonly ready: Promise<void>;
  /** Sends a response to the group (or to `to`, a legacy unicast querier); `done` gets a SEND error, or null once sent. */
  respond(response: Response, to: RemoteInfo | undefined, done: Done): void;
  /** Sends a query to the group. */
  query(questions: Question[], done: Done): void;
  close(): Promise<void>;
}

/** Opens the mDNS socket on UDP 5353, on one interface (a name or an IPv4 address) or on all. */
export function openMdns(iface?: string): MdnsSocket {
  const address = iface === undefined ? undefined : interfaceAddress(iface);
  // Bound to the wildcard even for one interface: on Linux a socket bound to a unicast address
  // never receives what is sent to the group.
  const mdns = makeMdns(address === undefined ? {} : { interface: address, bind: '0.0.0.0' });
  let failed: DiscoveryError | null = null;
  let bound = false;
  let closed = false;
  const ready = new Promise<void>((resolve, reject) => {
    mdns.once('ready', () => {
      bound = true;
      resolve();
    });
    mdns.on('error', (err: unknown) => {
      failed ??= socketError(err);
      reject(failed);
    });
  });
  ready.catch(() => undefined); // whoever awaits it sees the error; unawaited it must not be unhandled
  mdns.on('warning', () => undefined);
  // Sent only once bound: multicast-dns then encodes at once, so a throw lands in this try.
  const sendWith = (done: Done, send: (cb: (err: Error | null) => void) => void) => {
    if (closed || failed || !bound) return done(failed ?? new DiscoveryError('SEND', 'the mDNS socket is not open: wait for it to be ready, or open it again'));
    try {
      send((err) => done(err ? sendError(err) : null));
    } catch (err) {
      done(sendError(err));
    }
  };
  const respond: MdnsSocket['respond'] = (response, to, done) =>
    sendWith(done, (cb) => (to === undefined ? mdns.respond(response, cb) : mdns.respond(response, { port: to.port, address: to.address }, cb)));
  const query: MdnsSocket['query'] = (questions, done) => sendWith(done, (cb) => mdns.query({ questions }, cb));
  const close = () =>
    new Promise<void>((resolve) => {
      if (closed) return resolve();
      closed = true;
      try {
        mdns.destroy(() => resolve());
      } catch {
        resolve(); // a socket that never bound has nothing to close
      }
    });
  return { mdns, ready, respond, query, close };
}
