// The two sources that speak edgecam's own TCP protocols, as URLs: `tcp://HOST[:PORT]` for the
// seed's camera server (legacy framing), `edgecam[s]://HOST[:PORT][/CAMERA][?token=…&fingerprint=…]`
// for another edgecam-server over v2 (edgecams: TLS). Parsed here, written back in one canonical form.
import { isIPv6 } from 'node:net';
import { parseFingerprint, TOKEN_PATTERN } from '@edgecam/runtime';

/** The seed's camera server. port null: not given (6810, or what a resolver finds). */
export interface SeedSpec {
  kind: 'tcp';
  host: string;
  port: number | null;
}

/** Another edgecam-server. */
export interface EdgecamSpec {
  kind: 'edgecam';
  /** edgecams://: TLS, checked against the system's CAs, or pinned by fingerprint. */
  tls: boolean;
  host: string;
  port: number | null;
  /** Which of its cameras; null: its default. */
  camera: string | null;
  /** Its token (a secret: shown masked). */
  token: string | null;
  /** SHA-256 of its certificate, `AB:CD:…`: trusted when, and only when, it matches. */
  fingerprint: string | null;
}

// A host name (letters, digits, dots and dashes) or an IPv4 address; IPv6 comes in brackets.
const HOST_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i;
// What a device's camera may be called, loosely: a newer device may allow more than this one does.
const CAMERA = /^[A-Za-z0-9._~-]{1,64}$/;

/** The URL, its host (IPv6 without brackets, lower case) and port, when it has one of the schemes and no user, password or fragment. */
function hostAndPort(text: string, schemes: readonly string[]): { url: URL; host: string; port: number | null } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (!schemes.includes(url.protocol) || url.username !== '' || url.password !== '' || url.hash !== '') return undefined;
  const raw = url.hostname;
  const host = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  if (!(raw.startsWith('[') ? isIPv6(host) : HOST_NAME.test(host))) return undefined;
  const port = url.port === '' ? null : Number(url.port);
  if (port === 0) return undefined;
  return { url, host: host.toLowerCase(), port };
}

/** `tcp://HOST[:PORT]`, nothing after it; undefined for anything else. */
export function parseSeedUrl(text: string): SeedSpec | undefined {
  const parts = hostAndPort(text, ['tcp:']);
  if (!parts || (parts.url.pathname !== '' && parts.url.pathname !== '/') || parts.url.search !== '') return undefined;
  return { kind: 'tcp', host: parts.host, port: parts.port };
}

/** The query's fields by name, decoded as written (`+` stays `+`); undefined when one is malformed or repeated. */
function queryFields(search: string): Map<string, string> | undefined {
  const fields = new Map<string, string>();
  if (search === '' || search === '?') return fields;
  for (const field of search.slice(1).split('&')) {
    const eq = field.indexOf('=');
    if (eq <= 0) return undefined;
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(field.slice(0, eq));
      value = decodeURIComponent(field.slice(eq + 1));
    } catch {
      return undefined;
    }
    if (fields.has(name)) return undefined;
    fields.set(name, value);
  }
  return fields;
}

/** `edgecam[s]://HOST[:PORT][/CAMERA][?token=…&fingerprint=…]`; undefined for anything else. */
export function parseEdgecamUrl(text: string): EdgecamSpec | undefined {
  const parts = hostAndPort(text, ['edgecam:', 'edgecams:']);
  if (!parts) return undefined;
  const { url } = parts;
  const path = url.pathname === '' || url.pathname === '/' ? null : url.pathname.slice(1);
  let camera: string | null = null;
  if (path !== null) {
    try {
      camera = decodeURIComponent(path);
    } catch {
      return undefined;
    }
    if (!CAMERA.test(camera)) return undefined;
  }
  const fields = queryFields(url.search);
  if (!fields || [...fields.keys()].some((k) => k !== 'token' && k !== 'fingerprint')) return undefined;
  const token = fields.get('token') ?? null;
  if (token !== null && !TOKEN_PATTERN.test(token)) return undefined;
  const pin = fields.get('fingerprint');
  const fingerprint = pin === undefined ? null : parseFingerprint(pin);
  const tls = url.protocol === 'edgecams:';
  // A pin without TLS would be a promise nothing keeps.
  if (fingerprint === undefined || (fingerprint !== null && !tls)) return undefined;
  return { kind: 'edgecam', tls, host: parts.host, port: parts.port, camera, token, fingerprint };
}

/** host[:port], with brackets around an IPv6 address. */
export function hostPortText(host: string, port: number | null): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === null ? h : `${h}:${port}`;
}

/** The spec as a URL that parses back to it. */
export function seedUrlText(spec: SeedSpec): string {
  return `tcp://${hostPortText(spec.host, spec.port)}`;
}

/** The spec as a URL that parses back to it, the token in clear (maskUrlPasswords hides it for display). */
export function edgecamUrlText(spec: EdgecamSpec): string {
  const query = [
    ...(spec.token !== null ? [`token=${encodeURIComponent(spec.token)}`] : []),
    ...(spec.fingerprint !== null ? [`fingerprint=${spec.fingerprint}`] : []),
  ];
  const camera = spec.camera !== null ? `/${encodeURIComponent(spec.camera)}` : '';
  return `edgecam${spec.tls ? 's' : ''}://${hostPortText(spec.host, spec.port)}${camera}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}
