import type { Socket } from 'node:net';

/** A peer as `host:port`, with brackets around an IPv6 address, the same in logs and /status. */
export function formatPeerAddress(socket: Pick<Socket, 'remoteAddress' | 'remotePort'>): string {
  const host = socket.remoteAddress ?? 'unknown';
  const port = socket.remotePort ?? 0;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
