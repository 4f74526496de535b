import type { Logger } from 'pino';
import { ExitCode } from './errors.js';
import type { GlobalOptions } from './global-options.js';
import { jsonText, serverName, visibleText } from './peer-text.js';
import { printLine } from './terminal.js';
import { connect } from './negotiate.js';

export { parseServerAddress } from './server-address.js';

/** What `edgecam cameras` reports; cameras null: the server does not name them (it serves one). */
export interface CameraList {
  address: string;
  protocol: 'legacy' | 'v2';
  server: string | null;
  cameras: string[] | null;
  default: string | null;
}

/** `edgecam cameras [HOST[:PORT]] [--json]`: the cameras a server has, from its WELCOME. */
export async function camerasCommand(g: GlobalOptions, json: boolean, log: Logger): Promise<number> {
  // The list comes with any WELCOME: no camera is asked for, so the server's default answers.
  const conn = await connect({ ...g, camera: undefined, checkTlsAtOnce: true, logger: log });
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
