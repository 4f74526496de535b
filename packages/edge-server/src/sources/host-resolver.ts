// Where a network source (tcp://, edgecam://) dials: its URL's host and port, turned into an
// address before each connection, so a device that changed address is found again. The default
// leaves the name to the system's resolver (DNS, /etc/hosts), but for `NAME.local`, which it asks
// the LAN over mDNS/DNS-SD (an edgecam server of that name also tells its port).
import { DEFAULT_PORT } from '@edgecam/protocol';

/** An address to connect to. */
export interface Endpoint {
  host: string;
  port: number;
}

/** Turns a source's host and port (null: not given) into the address to dial; rejects with the reason it cannot. */
export type HostResolver = (host: string, port: number | null) => Promise<Endpoint>;

/** The host as written (the system resolves names as it connects), the port as written or 6810. */
export const systemResolver: HostResolver = (host, port) => Promise.resolve({ host, port: port ?? DEFAULT_PORT });

/**
 * `NAME.local` over mDNS (@edgecam/discovery, loaded only then): the edgecam server of that name,
 * at the port the URL gives or else the one it announces; a plain host of that name at the URL's
 * port or 6810. Any other name goes to the system's resolver.
 */
export const lanResolver: HostResolver = async (host, port) => {
  if (!/\.local\.?$/i.test(host)) return systemResolver(host, port);
  const { resolve } = await import('@edgecam/discovery');
  const found = await resolve(host);
  return { host: found.host, port: port ?? found.port ?? DEFAULT_PORT };
};
