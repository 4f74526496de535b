import type { Logger } from 'pino';
import { ExitCode, usageError } from './errors.js';
import type { GlobalOptions } from './global-options.js';
import { jsonText, serverName, visibleText } from './peer-text.js';
import { printLine } from './terminal.js';
import { connect } from './negotiate.js';

/** `HOST`, `HOST:PORT`, `[v6]:PORT` or `:PORT`; what is left out keeps the --host/--port value. */
export function parseServerAddress(text: string, g: Pick<GlobalOptions, 'host' | 'port'>): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\s]*))(?::(\d{1,5}))?$/.exec(text.trim());
  // A bare IPv6 address has several colons: all of it is the host.
  if (m === null) return text.split(':').length > 2 && !/\s/.test(text) ? { host: text.trim(), port: g.port } : undefined;
  const port = m[3] === undefined ? g.port : Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] || m[2] || g.host, port };
}

/** What `edgecam cameras` reports; cameras null: the server does not name them (it serves one). */
export interface CameraList {
  address: string;
  protocol: 'legacy' | 'v2';
  server: string | null;
  cameras: string[] | null;
  default: string | null;
}

/** `edgecam cameras [HOST[:PORT]] [--json]`: the cameras a server has, from its WELCOME. */
export async function camerasCommand(g: GlobalOptions, address: string | undefined, json: boolean, log: Logger): Promise<number> {
  const where = address === undefined ? { host: g.host, port: g.port } : parseServerAddress(address, g);
  if (where === undefined) throw usageError(`invalid server address ${JSON.stringify(address)}: expected HOST, HOST:PORT or [IPv6]:PORT`);
  // The list comes with any WELCOME: no camera is asked for, so the server's default answers.
  const conn = await connect({ ...g, ...where, camera: undefined, logger: log });
  const w = conn.welcome;
  const list: CameraList = {
    address: conn.address,
    protocol: conn.protocol,
    server: w === undefined ? null : serverName(w),
    cameras: w?.cameras ?? null,
    default: w?.cameras === undefined ? null : (w.camera ?? w.cameras[0] ?? null),
  };
  await conn.close(500);
  if (json) {
    printLine(jsonText(list));
    return ExitCode.OK;
  }
  if (list.cameras === null) {
    const why = conn.protocol === 'legacy' ? 'a legacy server' : 'it does not name its cameras';
    printLine(`${conn.address} serves one camera (${why}); connect without --camera`);
    return ExitCode.OK;
  }
  for (const name of list.cameras) printLine(name === list.default ? `${visibleText(name)} (default)` : visibleText(name));
  return ExitCode.OK;
}
