// The machine's addresses as mDNS announces them, and an interface named by the user.
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { DiscoveryError } from './errors.js';

/** Addresses a LAN peer can use: not loopback, and no IPv6 link-local (useless without its zone). */
function reachable(i: NetworkInterfaceInfo): boolean {
  return !i.internal && !(i.family === 'IPv6' && /^fe[89ab]/i.test(i.address));
}

/** The addresses to announce: those of one interface (a name or one of its addresses), else of every interface. */
export function localAddresses(iface?: string, interfaces = networkInterfaces()): string[] {
  const lists = Object.entries(interfaces).flatMap(([name, list]) => {
    const infos = list ?? [];
    return iface === undefined || name === iface || infos.some((i) => i.address === iface) ? [infos] : [];
  });
  return [...new Set(lists.flat().filter(reachable).map((i) => i.address))];
}

/**
 * The IPv4 address that multicast-dns takes for an interface: an IPv4 address is kept, an
 * interface's name is looked up. Refused when the machine has no such interface or address.
 */
export function interfaceAddress(iface: string, interfaces = networkInterfaces()): string {
  if (isIP(iface) === 4) return iface;
  const v4 = (interfaces[iface] ?? []).find((i) => i.family === 'IPv4');
  if (v4) return v4.address;
  const names = Object.keys(interfaces).join(', ');
  throw new DiscoveryError('BAD_OPTIONS', `no interface ${JSON.stringify(iface)} with an IPv4 address here: name one of ${names || '(none)'}, or an IPv4 address of one`);
}
