// Where a server's HTTP side is (recordings, pull, view's link), from the one address the user
// gives every command: --http-port if given, else the HTTP port the server names in its v2
// WELCOME. Older forms still work: an http(s):// URL, and an address whose port turns out to
// be the HTTP port itself (what `recordings HOST:HTTP_PORT` meant before).
import type { Logger } from 'pino';
import { DEFAULT_MAX_FRAME_BYTES, type Welcome } from '@edgecam/protocol';
import { CliError, ExitCode } from './errors.js';
import type { GlobalOptions } from './global-options.js';
import { DEFAULT_HTTP_PORT, httpBase, isHttpUrl, type HttpOptions } from './http-client.js';
import { visibleText } from './peer-text.js';
import { withServerAddress } from './server-address.js';
import { serverError } from './server-error.js';
import { formatAddress } from './socket-open.js';
import { noWelcomeError, v2Handshake } from './v2-handshake.js';
import { HttpPortError } from './wrong-port.js';

/** The HTTP side: a base URL ending in `/`, and where its port came from (added to a refusal). */
export interface HttpSide {
  base: URL;
  portNote: string | undefined;
}

/** The schemes this client speaks. */
const SCHEMES = new Set(['http', 'https']);

/** `scheme://HOST:PORT/PATH/` on the host the user gave; the server's path cannot change the host. */
export function sideUrl(scheme: string, host: string, port: number, path = '/'): URL {
  const url = new URL(`${scheme}://${formatAddress(host, port)}/`);
  url.pathname = path.endsWith('/') ? path : `${path}/`;
  return url;
}

/** The HTTP side the server names in its WELCOME (or none), on the host it was reached by. */
export function welcomeHttpSide(w: Welcome | undefined, host: string): HttpSide | undefined {
  const h = w?.http;
  if (h === undefined) return undefined;
  if (!SCHEMES.has(h.scheme)) {
    throw new CliError(
      ExitCode.PROTOCOL,
      `the server names its HTTP side with the scheme ${JSON.stringify(visibleText(h.scheme))}, which edgecam does not speak; give --http-port (and --tls for https)`,
    );
  }
  return { base: sideUrl(h.scheme, host, h.port, h.path), portNote: `the server's WELCOME names ${h.port} as its HTTP port (--http-port sets another)` };
}

/** The HTTP side given with --http-port. */
function flagSide(g: GlobalOptions, httpPort: number): HttpSide {
  return { base: sideUrl(g.tls ? 'https' : 'http', g.host, httpPort), portNote: `${httpPort} is the --http-port given` };
}

/**
 * Finds the HTTP side of the server at `address` (the command's `[HOST[:PORT]]`, or an
 * http(s):// URL). Without --http-port this is one v2 handshake on the TCP port; its refusals
 * read as any other command's do.
 */
export async function findHttpSide(g: GlobalOptions, address: string | undefined, log: Logger, what: string): Promise<HttpSide> {
  if (address !== undefined && isHttpUrl(address)) return { base: httpBase(address), portNote: undefined };
  const at = withServerAddress(g, address);
  if (at.httpPort !== undefined) return flagSide(at, at.httpPort);
  const tcp = formatAddress(at.host, at.port);
  const waitMs = at.timeoutMs;
  const answer = await v2Handshake({ ...at, camera: undefined, waitMs, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
  if (answer.kind === 'welcome') {
    answer.socket.destroy();
    const side = welcomeHttpSide(answer.welcome, at.host);
    if (side !== undefined) {
      log.debug({ address: tcp, http: side.base.href }, 'the HTTP side, from the WELCOME');
      return side;
    }
    // An older server, or one without HTTP: its default port is the best guess.
    log.info({ address: tcp }, `the server names no HTTP port in its WELCOME; trying ${DEFAULT_HTTP_PORT}`);
    return {
      base: sideUrl(at.tls ? 'https' : 'http', at.host, DEFAULT_HTTP_PORT),
      portNote: `the server names no HTTP port (an older server, or one without HTTP), so ${DEFAULT_HTTP_PORT} was tried; give --http-port`,
    };
  }
  if (answer.kind === 'refused') throw serverError(answer.error, true, at.token !== undefined);
  if (answer.kind === 'final' && answer.error instanceof HttpPortError) {
    // The address is the HTTP port itself, as `recordings HOST:HTTP_PORT` was written before.
    log.info({ address: tcp }, 'the address answers HTTP: using it as the HTTP port');
    return { base: sideUrl(at.tls ? 'https' : 'http', at.host, at.port), portNote: undefined };
  }
  throw await noWelcomeError(answer, { ...at, waitMs }, what);
}

/** HttpOptions for the HTTP side found. */
export function httpOptions(g: GlobalOptions, side: HttpSide): HttpOptions {
  return { token: g.token, timeoutMs: g.timeoutMs, tls: g.tls, portNote: side.portNote };
}
