// Where an HTTP client may put the token: `Authorization: Bearer TOKEN` (scripts, curl),
// `Authorization: Basic base64(ANY:TOKEN)` (players and browsers that only speak Basic: the
// user name is ignored) and `?token=TOKEN` (an <img> tag cannot send headers). And the means
// to keep that token out of the log.

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
 * The URL as it may be logged: the value of every query parameter whose name, decoded the way
 * the server decodes it (`to%6Ben`, `tok%65n`), reads `token` in any case, replaced.
 */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt === -1) return url;
  const fields = url
    .slice(queryAt + 1)
    .split('&')
    .map((field) => {
      const eq = field.indexOf('=');
      const rawName = eq === -1 ? field : field.slice(0, eq);
      return isTokenName(rawName) ? `${rawName}=REDACTED` : field;
    });
  return `${url.slice(0, queryAt + 1)}${fields.join('&')}`;
}

/** Whether a raw query name decodes (as URLSearchParams decodes it) to `token`, in any case. */
function isTokenName(rawName: string): boolean {
  if (rawName.length < 5) return false;
  const [name] = new URLSearchParams(`${rawName}=`).keys();
  return name !== undefined && name.toLowerCase() === 'token';
}

/** The challenge that makes browsers and VLC ask for a password (used as the token). */
export const AUTH_CHALLENGE = 'Basic realm="edgecam", charset="UTF-8"';
