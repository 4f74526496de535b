// Where a network source (tcp://, edgecam://) dials: its URL's host and port, turned into an
// address before each connection, so a device that changed address is found again. The default
// leaves the name to the system's resolver (DNS, /etc/hosts); a resolver for `NAME.local`
// (mDNS/DNS-SD, which may also tell the port) plugs in here as one function.
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
