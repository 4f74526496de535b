// The few HTTP requests the recordings commands make to edgecam-server's HTTP port: where to
// send them (HOST[:PORT] or a URL), the token as a Bearer header, every JSON answer checked
// against a zod schema before it is used, and errors as CliErrors.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import { CliError, ExitCode, errorText } from './errors.js';
import { visibleText } from './peer-text.js';

/** The server's HTTP port when HOST has none (edgecam-server's --http-port default). */
export const DEFAULT_HTTP_PORT = 8080;

/** `HOST`, `HOST:PORT`, `[v6]:PORT` or `http(s)://HOST:PORT/` to a base URL ending in `/`. */
export function httpBase(target: string): URL {
  const text = target.trim();
  const withScheme = /^https?:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(ExitCode.USAGE, `${JSON.stringify(target)} is not HOST[:HTTPPORT] or an http:// URL (e.g. camera.local:8080)`);
  }
  if (url.port === '' && !/^https?:\/\//i.test(text)) url.port = String(DEFAULT_HTTP_PORT);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  return url;
}

export interface HttpOptions {
  readonly token: string | undefined;
  readonly timeoutMs: number;
  readonly method?: string;
}

/**
 * GET (or `method`) `url`; resolves with the response once its headers arrive and its status is
 * 2xx. `timeoutMs` bounds every silence, the body's included.
 */
export function httpGet(url: URL, o: HttpOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = {};
    if (o.token !== undefined) headers.Authorization = `Bearer ${o.token}`;
    const req = send(url, { method: o.method ?? 'GET', headers, timeout: o.timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return resolve(res);
      void readBody(res, 4096).then((body) => reject(refusal(url, status, body)), reject);
    });
    req.on('timeout', () => req.destroy(new CliError(ExitCode.CONNECTION, `no answer from ${url.host} within ${o.timeoutMs} ms`)));
    req.on('error', (err) => {
      reject(err instanceof CliError ? err : new CliError(ExitCode.CONNECTION, `cannot reach ${url.host} over HTTP: ${errorText(err)}; is it edgecam-server's --http-port?`, { cause: err }));
    });
    req.end();
  });
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
