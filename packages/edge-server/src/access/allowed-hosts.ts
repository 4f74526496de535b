// DNS rebinding: a page from evil.example, once the attacker points that name at a LAN address,
// may read whatever the server answers to `Host: evil.example`. Without a token the server
// answers only names that are its own: IP literals, localhost, *.localhost, *.local (mDNS, which
// no outside page controls), this machine's name and the names given in allowedHosts.
import { isIPv4, isIPv6 } from 'node:net';
import { hostname } from 'node:os';

/** What an allowedHosts entry may be: a DNS name (letters, digits, `-`, `_`, dots). */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?$/;

/** The test of a request's Host header: true for a name the server answers to. */
export function allowedHosts(configured: readonly string[], machine: string = hostname()): (host: string | undefined) => boolean {
  const names = new Set([...configured, machine, machine.split('.')[0]!].map((n) => n.toLowerCase()));
  return (host) => {
    // Only HTTP/1.0 goes without a Host (node refuses HTTP/1.1 without one), and no browser does.
    if (host === undefined) return true;
    const h = host.toLowerCase();
    const v6 = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h);
    if (v6) return isIPv6(v6[1]!);
    // The port, and the dot of a fully qualified name (`localhost.`), are no part of the name.
    const name = /^([^:[\]]+?)\.?(?::\d{1,5})?$/.exec(h)?.[1];
    if (name === undefined) return false;
    return isIPv4(name) || name === 'localhost' || name.endsWith('.localhost') || name.endsWith('.local') || names.has(name);
  };
}
