// One address per server: every command that talks to a server takes the same optional
// `[HOST[:PORT]]`, which means what --host and --port mean (the server's TCP port).
import { usageError } from './errors.js';
import type { GlobalOptions } from './global-options.js';

/** `HOST`, `HOST:PORT`, `[v6]:PORT`, `:PORT` or a bare IPv6 address; what is left out keeps the --host/--port value. */
export function parseServerAddress(text: string, g: Pick<GlobalOptions, 'host' | 'port'>): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\s]*))(?::(\d{1,5}))?$/.exec(text.trim());
  // A bare IPv6 address has several colons: all of it is the host.
  if (m === null) return text.split(':').length > 2 && !/\s/.test(text) && !text.includes('[') ? { host: text.trim(), port: g.port } : undefined;
  const port = m[3] === undefined ? g.port : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] || m[2] || g.host, port };
}

/** The global options with a command's `[HOST[:PORT]]` in place of --host and --port. */
export function withServerAddress<G extends Pick<GlobalOptions, 'host' | 'port'>>(g: G, address: string | undefined): G {
  if (address === undefined) return g;
  const at = parseServerAddress(address, g);
  if (at === undefined) throw usageError(`invalid server address ${JSON.stringify(address)}: expected HOST, HOST:PORT or [IPv6]:PORT (the server's TCP port)`);
  return { ...g, ...at };
}
