// `edgecam cameras` with no address: the edgecam-servers that answer on the LAN over mDNS, each
// with the address to give the other commands. Everything shown comes from peers, so every
// string goes through visibleText (a table) or jsonText (--json).
import { browse, DiscoveryError, type DiscoveredServer } from '@edgecam/discovery';
import { CliError, ExitCode, usageError } from './errors.js';
import { flagValue, parseDurationMs, parseFlag } from './flag-values.js';
import { jsonText, visibleText } from './peer-text.js';
import { printLine } from './terminal.js';

export interface LanFlags {
  wait?: string;
  interface?: string;
}

/** What `edgecam cameras --json` prints for each server found on the LAN. */
export interface LanServer {
  name: string;
  /** HOST:PORT to give the other commands (`edgecam snapshot ADDRESS`). */
  address: string;
  addresses: string[];
  tcpPort: number;
  tls: boolean;
  /** The server's page, or null when it serves no HTTP. */
  http: string | null;
  /** The cameras, the default first; as many as its announcement holds. */
  cameras: string[];
  cameraCount: number;
}

const waitSchema = flagValue((s) => parseDurationMs(s, 's'), (ms) => ms > 0 && ms <= 60_000, 'a duration above 0, at most a minute, such as 2s, 5 or 500ms');
const CAMERAS_SHOWN = 4;

/** `host:port`, an IPv6 host in brackets. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function lanServer(s: DiscoveredServer): LanServer {
  return {
    name: s.name,
    address: hostPort(s.host, s.tcpPort),
    addresses: s.addresses,
    tcpPort: s.tcpPort,
    tls: s.tls,
    http: s.httpPort === null ? null : `${s.scheme}://${hostPort(s.host, s.httpPort)}${s.path}`,
    cameras: s.cameras,
    cameraCount: s.cameraCount,
  };
}

/** The cameras as one table cell: the first few, then how many more. */
function camerasCell(s: LanServer): string {
  const shown = s.cameras.slice(0, CAMERAS_SHOWN).map(visibleText);
  const more = s.cameraCount - shown.length;
  return more > 0 ? `${shown.join(', ')} +${more} more` : shown.join(', ') || '-';
}

/** Rows as columns padded to the widest cell. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

export async function lanCamerasCommand(flags: LanFlags, json: boolean): Promise<number> {
  const waitMs = flags.wait === undefined ? 2000 : parseFlag(waitSchema, flags.wait, '--wait');
  let found: DiscoveredServer[];
  try {
    found = await browse({ timeoutMs: waitMs, ...(flags.interface !== undefined ? { interface: flags.interface } : {}) });
  } catch (err) {
    if (!(err instanceof DiscoveryError)) throw err;
    if (err.code === 'BAD_OPTIONS') throw usageError(`--interface: ${err.message}`);
    throw new CliError(ExitCode.CONNECTION, `cannot look for servers on the LAN: ${err.message}; or give the server's address (edgecam cameras HOST[:PORT])`, { cause: err });
  }
  const servers = found.map(lanServer);
  if (json) printLine(jsonText(servers));
  if (servers.length === 0) {
    throw new CliError(
      ExitCode.CONNECTION,
      `no edgecam-server answered on the LAN within ${waitMs / 1000} s: check that one runs on this network with mDNS on (not --no-mdns, not --host 127.0.0.1), wait longer (--wait 5s), or give its address (edgecam cameras HOST[:PORT])`,
    );
  }
  if (json) return ExitCode.OK;
  const rows = servers.map((s) => [visibleText(s.name), s.address, camerasCell(s), s.http === null ? '-' : visibleText(s.http)]);
  for (const line of table([['NAME', 'ADDRESS', 'CAMERAS', 'PAGE'], ...rows])) printLine(line);
  return ExitCode.OK;
}
