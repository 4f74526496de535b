// Where an HTTP client may put the token: `Authorization: Bearer TOKEN` (scripts, curl),
// `Authorization: Basic base64(ANY:TOKEN)` (players and browsers that only speak Basic: the
// user name is ignored) and `?token=TOKEN` (an <img> tag cannot send headers). And the means
// to keep that token out of the log.
import { peerText } from '../log/peer-text.js';
import { decodedName, isSecretParam, maskUrlPasswords } from '../sources/url-credentials.js';

/** Every token the request presents: from the Authorization header and from the query. */
export function presentedTokens(authorization: string | undefined, query: URLSearchParams): string[] {
  const found: string[] = [];
  const fromHeader = authorization === undefined ? undefined : tokenFromAuthorization(authorization);
  if (fromHeader !== undefined) found.push(fromHeader);
  const fromQuery = query.get('token');
  if (fromQuery !== null && fromQuery !== '') found.push(fromQuery);
  return found;
}

/** The token in an Authorization header, or undefined for a scheme we do not take. */
export function tokenFromAuthorization(header: string): string | undefined {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (!m) return undefined;
  const scheme = (m[1] as string).toLowerCase();
  const value = m[2] as string;
  if (scheme === 'bearer') return value;
  if (scheme === 'basic') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    // user:password; the password may hold colons itself, the user name may not (RFC 7617).
    const colon = decoded.indexOf(':');
    const password = colon === -1 ? decoded : decoded.slice(colon + 1);
    return password === '' ? undefined : password;
  }
  return undefined;
}

/**
 * A request target as it may be logged: the value of every query parameter whose name, decoded
 * the way the server decodes it (`to%6Ben`, `tok%65n`), says it holds a secret (`token` in any
 * case, `token%00`, `access_token`, `pass`…) replaced by REDACTED, whether `&` or `;` separates
 * it; the password of an absolute target (`GET http://u:TOKEN@host/`, `GET //u:TOKEN@host/`)
 * masked; the whole cut short like any text a peer sent.
 */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const fields = queryAt === -1 ? [] : url.slice(queryAt + 1).split(/([&;])/);
  for (let i = 0; i < fields.length; i += 2) {
    const field = fields[i] as string;
    const eq = field.indexOf('=');
    const rawName = eq === -1 ? field : field.slice(0, eq);
    if (isSecretParam(decodedName(rawName))) fields[i] = `${rawName}=REDACTED`;
  }
  return peerText(queryAt === -1 ? maskAuthority(path) : `${maskAuthority(path)}?${fields.join('')}`, MAX_LOGGED_TARGET);
}

/** Characters of a request target the log keeps (a head may have 8 KiB). */
const MAX_LOGGED_TARGET = 200;

/** The path part of a request target with the password of its authority, if it has one, masked. */
function maskAuthority(path: string): string {
  if (path.startsWith('//')) return maskUrlPasswords(`x:${path}`).slice(2);
  return path.startsWith('/') ? path : maskUrlPasswords(path);
}

/** The challenge that makes browsers and VLC ask for a password (used as the token). */
export const AUTH_CHALLENGE = 'Basic realm="edgecam", charset="UTF-8"';
