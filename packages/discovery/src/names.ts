// The DNS-SD names an edgecam server goes by, and the rules a label must keep to be encoded
// (dns-packet writes a label's length into one byte without checking it: a longer one corrupts the packet).
import { DiscoveryError } from './errors.js';

/** The edgecam service: its SRV names the TCP port (legacy and v2 clients). */
export const EDGECAM_SERVICE = '_edgecam._tcp.local';
/** The generic web service, which browsers, avahi-browse and Home Assistant list: SRV the HTTP port, TXT `path=`. */
export const HTTP_SERVICE = '_http._tcp.local';
/** Where DNS-SD lists the service types a responder has (RFC 6763, 9). */
export const SERVICE_TYPES = '_services._dns-sd._udp.local';

/** A DNS label holds at most 63 bytes (RFC 1035, 2.3.4). */
export const MAX_LABEL_BYTES = 63;

// Control characters would reach logs and terminals; a dot would split the label in two.
const UNFIT = /[\u0000-\u001f\u007f.]/;

/** The name as one DNS label, or a refusal naming what to change. */
export function checkLabel(name: string, what: string): string {
  if (name.length === 0 || UNFIT.test(name)) {
    throw new DiscoveryError('BAD_OPTIONS', `${what} ${JSON.stringify(name)} cannot be an mDNS name: use 1 to ${MAX_LABEL_BYTES} bytes without dots or control characters`);
  }
  if (Buffer.byteLength(name) > MAX_LABEL_BYTES) {
    throw new DiscoveryError('BAD_OPTIONS', `${what} ${JSON.stringify(name)} is ${Buffer.byteLength(name)} bytes, more than an mDNS name holds: use at most ${MAX_LABEL_BYTES}`);
  }
  return name;
}

/** `garage` for `garage`, `garage.local` and `garage.local.`; undefined for a name with more labels. */
export function bareName(name: string): string | undefined {
  const n = name.replace(/\.$/, '').replace(/\.local$/i, '');
  return n.length === 0 || n.includes('.') ? undefined : n;
}

/** The instance's full name under a service type: `garage._edgecam._tcp.local`. */
export function instanceName(instance: string, service: string): string {
  return `${instance}.${service}`;
}

/**
 * The host name the SRV records point at: `edgecam-garage.local`. A name of our own, so that our
 * address records never contradict the machine's own mDNS responder (avahi renames a host whose
 * name another responder answers with other addresses).
 */
export function hostTarget(instance: string): string {
  let label = `edgecam-${instance}`;
  // Cut by code point, so a cut never splits a character.
  while (Buffer.byteLength(label) > MAX_LABEL_BYTES) label = [...label].slice(0, -1).join('');
  return `${label}.local`;
}

/** The instance label of a full name under `service`, or undefined when it is not one. */
export function instanceOf(fullName: string, service: string): string | undefined {
  const suffix = `.${service}`;
  if (fullName.length <= suffix.length || !fullName.toLowerCase().endsWith(suffix.toLowerCase())) return undefined;
  return fullName.slice(0, -suffix.length);
}

/** DNS names compare without regard to ASCII case. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
