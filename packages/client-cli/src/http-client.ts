// The few HTTP requests the recordings commands make to edgecam-server's HTTP port (found by
// http-side.ts): the token as a Bearer header, every JSON answer checked against a zod schema
// before it is used, and errors as CliErrors.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { describeSystemError } from '@edgecam/runtime';
import { CliError, ExitCode } from './errors.js';
import { visibleText } from './peer-text.js';
import type { TlsOptions } from './connection.js';
import { formatSeconds, openSocket } from './socket-open.js';

/** The server's HTTP port when it names none (edgecam-server's --http-port default). */
export const DEFAULT_HTTP_PORT = 8080;

/** True for an `http://` or `https://` URL. */
export function isHttpUrl(text: string): boolean {
  return /^https?:\/\//i.test(text.trim());
}

/** An `http(s)://HOST:PORT/PATH` URL to a base URL ending in `/`. */
export function httpBase(target: string): URL {
  let url: URL;
  try {
    url = new URL(target.trim());
  } catch {
    throw new CliError(ExitCode.USAGE, `${JSON.stringify(target)} is not an http:// or https:// URL (e.g. http://camera.local:8080/)`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url;
}

export interface HttpOptions {
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly method?: string;
  /** How to trust an https server (--tls, --ca, --fingerprint); the system CAs when undefined. */
  readonly tls?: TlsOptions | undefined;
  /** Where the port came from, added to a refusal ("the server's WELCOME names 8080 as its HTTP port"). */
  readonly portNote?: string | undefined;
}

/**
 * GET (or `method`) `url`; resolves with the response once its headers arrive and its status is
 * 2xx. `timeoutMs` bounds every silence, the body's included. The connection is opened as every
 * other command opens its own (openSocket): the same refusals, and for https the same trust
 * (--ca, --fingerprint), checked before the token is sent.
 */
export function httpGet(url: URL, o: HttpOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port || (https ? 443 : 80));
    const headers: Record<string, string> = { Host: url.host };
    if (o.token !== undefined) headers.Authorization = `Bearer ${o.token}`;
    const createConnection = (_: unknown, done: (err: Error | null, socket: Duplex) => void) => {
      openSocket(host, port, o.timeoutMs, https ? (o.tls ?? {}) : undefined).then(
        (socket) => done(null, socket),
        (err: unknown) => done(withNote(err, o.portNote), undefined as never),
      );
      return undefined;
    };
    const options = { host, port, path: url.pathname + url.search, method: o.method ?? 'GET', headers, timeout: o.timeoutMs, createConnection };
    const req = httpRequest(options, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return resolve(res);
      void readBody(res, 4096).then((body) => reject(refusal(url, status, body)), reject);
    });
    req.on('timeout', () =>
      req.destroy(new CliError(ExitCode.CONNECTION, `no HTTP answer from ${url.host} within ${formatSeconds(o.timeoutMs)}${noteText(o.portNote)} (is it the server's HTTP port? see --http-port)`)),
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof CliError) return reject(err);
      reject(new CliError(ExitCode.CONNECTION, `the HTTP request to ${url.host} failed: ${describeSystemError(err)}${noteText(o.portNote)} (is it the server's HTTP port? see --http-port)`, { cause: err }));
    });
    req.end();
  });
}

function noteText(note: string | undefined): string {
  return note === undefined ? '' : `; ${note}`;
}

/** openSocket's refusal, with where the HTTP port came from. */
function withNote(err: unknown, note: string | undefined): CliError {
  if (!(err instanceof CliError)) return new CliError(ExitCode.CONNECTION, describeSystemError(err), { cause: err });
  return note === undefined ? err : new CliError(err.exitCode, `${err.message}${noteText(note)}`, { cause: err.cause });
}

/** How many schema issues a refusal names; the first is usually the one that matters. */
const MAX_ISSUES = 3;

/**
 * GET `url`, parse its JSON body (at most `maxBytes`) and check it against `schema`; `what` names
 * the expected answer in the refusal ("an edgecam-server recordings listing").
 */
export async function httpJson<S extends z.ZodType>(url: URL, schema: S, what: string, o: HttpOptions, maxBytes = 16 * 1024 * 1024): Promise<z.output<S>> {
  const res = await httpGet(url, o);
  const body = await readBody(res, maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new CliError(ExitCode.PROTOCOL, `${url.host} answered ${url.pathname} with something that is not JSON: is it an edgecam-server?`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new CliError(
      ExitCode.PROTOCOL,
      `${url.host} answered ${url.pathname} with JSON that is not ${what} (${issuesText(parsed.error)}); check that ${url.host} is edgecam-server's HTTP port (--http-port), or update edgecam to match the server`,
    );
  }
  return parsed.data;
}

/** The first issues of a failed parse, `path: message` each, control characters written out. */
function issuesText(error: z.ZodError): string {
  const shown = error.issues.slice(0, MAX_ISSUES).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  const more = error.issues.length > MAX_ISSUES ? `; and ${error.issues.length - MAX_ISSUES} more` : '';
  return visibleText(shown.join('; ') + more);
}

function readBody(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    res.on('data', (c: Buffer) => {
      n += c.length;
      if (n > maxBytes) {
        res.destroy();
        reject(new CliError(ExitCode.PROTOCOL, `the answer is over ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** edgecam-server's error answer; anything else is not quoted. */
const errorAnswerSchema = z.object({ error: z.object({ message: z.string() }) });

/** The server's own sentence when it sent one (`{ error: { message } }`), shown safely. */
function refusal(url: URL, status: number, body: string): CliError {
  let message: string | undefined;
  try {
    const parsed = errorAnswerSchema.safeParse(JSON.parse(body));
    if (parsed.success) message = parsed.data.error.message;
  } catch {
    // not JSON
  }
  const said = message !== undefined ? `: ${visibleText(message.slice(0, 300))}` : '';
  const hint = status === 401 ? ' (pass the server\'s token with --token or EDGECAM_TOKEN)' : '';
  return new CliError(ExitCode.CONNECTION, `${url.host} refused ${url.pathname} with HTTP ${status}${said}${hint}`);
}
