// URLs carry secrets: a camera's or a broker's password (`rtsp://admin:secret@cam/…`), an RTMP
// stream key (`rtmp://host/app/KEY`), SRT's streamid and passphrase, a token in the query, a Home
// Assistant webhook id (the path). Whatever shows a URL (logs, /status, errors, `config check`,
// ffmpeg's command line and stderr) shows it through showUrl or maskUrlPasswords. Both parse with
// `new URL` rather than match a pattern, so `user:p@ss@host` loses all of `p@ss`.

/** What stands in for a secret wherever one would be shown. */
export const MASK = '***';

// Query parameters whose value is a secret, by their decoded name: SRT's streamid (it may hold
// MediaMTX's user and password) and passphrase, MediaMTX's `pass`, tokens and keys of any kind.
const SECRET_PARAM = /token|pass|secret|key|auth|streamid/i;
// Schemes whose last path segment is the stream key (`rtmp://a.rtmp.youtube.com/live2/KEY`).
const KEYED_SCHEMES: ReadonlySet<string> = new Set(['rtmp:', 'rtmps:']);

/** Whether a query parameter's decoded name says its value is a secret. */
export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}

/**
 * The URL as it may be shown: the password, an RTMP stream key and the value of every secret
 * query parameter replaced by `***`. With `path: false` (webhooks, whose path is the secret) only
 * scheme://host[:port] and a masked path. A URL with nothing to hide is returned as written;
 * text that is no URL becomes its scheme (if any) and `***`.
 */
export function showUrl(text: string, opts: { path?: boolean } = {}): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
    return `${scheme}${MASK}`;
  }
  if (opts.path === false) {
    const hidden = url.pathname === '/' && url.search === '' ? '/' : `/${MASK}`;
    return `${url.protocol}//${url.host}${hidden}`;
  }
  let masked = false;
  if (url.password !== '') {
    url.password = MASK;
    masked = true;
  }
  if (KEYED_SCHEMES.has(url.protocol)) {
    const segments = url.pathname.split('/');
    const last = segments.findLastIndex((s) => s !== '');
    // One segment is the RTMP application; the key is the segment after it.
    if (segments.filter((s) => s !== '').length >= 2) {
      segments[last] = MASK;
      url.pathname = segments.join('/');
      masked = true;
    }
  }
  if (url.search !== '') {
    // Split by hand: URLSearchParams would re-encode every other parameter, and `;` separates too.
    const fields = url.search.slice(1).split(/([&;])/);
    for (let i = 0; i < fields.length; i += 2) {
      const field = fields[i] as string;
      const eq = field.indexOf('=');
      if (eq === -1 || !isSecretParam(decodedName(field.slice(0, eq)))) continue;
      fields[i] = `${field.slice(0, eq)}=${MASK}`;
      masked = true;
    }
    url.search = fields.join('');
  }
  return masked ? url.href : text;
}

/** A query parameter's name decoded as URLSearchParams decodes it (`to%6Ben`, `a+b`). */
export function decodedName(raw: string): string {
  return [...new URLSearchParams(`${raw}=`).keys()][0] ?? raw;
}

// Where a URL starts in free text, and the characters it runs on with (quotes and brackets end it).
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>`]+/gi;
// Punctuation after a URL in a sentence (`…/KEY: Input/output error`), kept out of the URL.
const TRAILING = /[.,:;!?)\]]+$/;

/** The text (an ffmpeg command line or stderr line, an error) with every URL in it as showUrl shows it. */
export function maskUrlPasswords(text: string): string {
  return text.replace(URL_IN_TEXT, (found) => {
    const tail = TRAILING.exec(found)?.[0] ?? '';
    return showUrl(found.slice(0, found.length - tail.length)) + tail;
  });
}

/** A user name and password for a camera (HTTP Basic, or the RTSP URL's). */
export interface CameraCredentials {
  username: string;
  password: string;
}

/** The URL with credentials put in (replacing any it had). */
export function withCredentials(url: URL, credentials: CameraCredentials | undefined): URL {
  if (!credentials) return url;
  const out = new URL(url.href);
  out.username = encodeURIComponent(credentials.username);
  out.password = encodeURIComponent(credentials.password);
  return out;
}

/**
 * The URL without its user and password, and those as an `Authorization: Basic` value: Node's
 * fetch refuses a URL with credentials in it.
 */
export function basicAuthFromUrl(text: string): { url: string; authorization: string | undefined } {
  const url = new URL(text);
  if (url.username === '' && url.password === '') return { url: text, authorization: undefined };
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { url: url.href, authorization: `Basic ${Buffer.from(pair, 'utf8').toString('base64')}` };
}
