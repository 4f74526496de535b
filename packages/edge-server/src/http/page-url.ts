// The server's page as a browser elsewhere on the LAN opens it (Home Assistant's link to the
// device): the address HTTP listens on when it is one, else the machine's mDNS name.
import { hostname } from 'node:os';

/** Addresses that mean "every interface": no browser can open them. */
const ANY_ADDRESS = new Set(['', '0.0.0.0', '::']);

/** `http://pi.local:8080/`; a name with a domain is kept as it is, an IPv6 address is bracketed. */
export function pageUrl(host: string, port: number, tls: boolean, machine: string = hostname()): string {
  const name = ANY_ADDRESS.has(host) ? (machine.includes('.') ? machine : `${machine}.local`).toLowerCase() : host;
  // Only an IPv6 address has a colon (node's isIP would compile its IPv6 pattern at start-up for this).
  return `${tls ? 'https' : 'http'}://${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}/`;
}
