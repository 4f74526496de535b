// The key per-address limits are counted under. IPv4 (also when mapped into IPv6) counts per
// address; IPv6 per /64, because one host on a LAN usually has a whole /64 and can pick a new
// address in it at will.
import { isIPv4, isIPv6 } from 'node:net';

/** The key a peer address is throttled and rate-limited under. */
export function addressKey(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined || remoteAddress === '') return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1] as string;
  if (isIPv4(remoteAddress)) return remoteAddress;
  if (!isIPv6(remoteAddress)) return remoteAddress;
  const groups = expandIPv6(remoteAddress.split('%')[0] as string);
  return `${groups.slice(0, 4).join(':')}::/64`;
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
