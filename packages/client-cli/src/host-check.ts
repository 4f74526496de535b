import net from 'node:net';

/**
 * DNS rebinding: a web page the user visits can point its own host name at 127.0.0.1 and then
 * read our page, stream and snapshots as same-origin. The browser still sends that name in
 * `Host`, so the viewer answers only requests addressed to it by a name that cannot be rebound:
 * localhost, a loopback address, the address it listens on, or (listening on every interface)
 * any IP address, each with its port.
 */

/** The hosts the viewer answers to when listening on `listenHost`. */
export function hostAllowed(hostHeader: string | undefined, listenHost: string, port: number): boolean {
  if (hostHeader === undefined) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (m === null) return false;
  // A browser leaves out :80; anything else must be our port.
  if (Number(m[2] ?? 80) !== port) return false;
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (host === 'localhost' || host === '127.0.0.1' || host === '::1' || host === listenHost.toLowerCase()) return true;
  return isWildcard(listenHost) && net.isIP(host) !== 0;
}

/** True for an address that listens on every interface. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** True for a loopback address or localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
