// The keys per-address state is counted under. IPv4 (also when mapped into IPv6) is one key per
// address. IPv6 has two: the address itself, and its /64, because one host on a LAN usually has
// a whole /64 and can pick a new address in it at will, while with SLAAC every other host of the
// LAN shares that /64 too. So what one host must not do to another is counted per address, and
// only a coarse budget per /64.
import { isIPv4, isIPv6 } from 'node:net';

/** The key of the host: the address (IPv4-mapped as IPv4, IPv6 written out without its zone). */
export function peerKey(remoteAddress: string | undefined): string {
  return keys(remoteAddress).peer;
}

/** The key of the network a host can move around in: the IPv4 address itself, or the IPv6 /64. */
export function addressKey(remoteAddress: string | undefined): string {
  return keys(remoteAddress).network;
}

function keys(remoteAddress: string | undefined): { peer: string; network: string } {
  if (remoteAddress === undefined || remoteAddress === '') return { peer: 'unknown', network: 'unknown' };
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  const v4 = mapped ? (mapped[1] as string) : remoteAddress;
  if (isIPv4(v4) || !isIPv6(remoteAddress)) return { peer: v4, network: v4 };
  const groups = expandIPv6(remoteAddress.split('%')[0] as string);
  return { peer: groups.join(':'), network: `${groups.slice(0, 4).join(':')}::/64` };
}

/** The eight 16-bit groups of an IPv6 address, as lower-case hex without leading zeros. */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const part = (s: string) => (s === '' ? [] : s.split(':'));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  // An embedded IPv4 tail (::1.2.3.4) stands for two groups.
  const last = right.length > 0 ? right : left;
  const v4 = last.length > 0 && isIPv4(last[last.length - 1] as string) ? (last.pop() as string).split('.').map(Number) : null;
  if (v4) last.push(((v4[0]! << 8) | v4[1]!).toString(16), ((v4[2]! << 8) | v4[3]!).toString(16));
  const missing = 8 - left.length - right.length;
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(16));
}
