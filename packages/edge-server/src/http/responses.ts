// Small helpers so every response carries the same safety headers and every error the same
// JSON shape: { "error": { "code": "...", "message": "..." } }. Messages are ours, never a stack.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export type HttpErrorCode =
  | 'NOT_FOUND'
  | 'UNKNOWN_CAMERA' // /cams/NAME/… names no camera of this server (404)
  | 'SETTINGS_FIXED' // the camera's source cannot change its settings (409)
  | 'METHOD_NOT_ALLOWED'
  | 'BAD_REQUEST'
  | 'SOURCE_UNAVAILABLE'
  | 'UNAUTHORIZED' // no token, or a wrong one (401, with a Basic challenge)
  | 'TOO_MANY_FAILURES' // this address sent too many wrong tokens lately (429)
  | 'RATE_LIMITED' // this address sends requests too fast (429)
  | 'TOO_MANY_CLIENTS' // --max-clients stream viewers already (503)
  | 'TOO_MANY_STREAMS' // --max-per-address streams from this host already (429)
  | 'CONFLICT' // the recording is being written and cannot be deleted (409)
  | 'RANGE_NOT_SATISFIABLE' // a Range outside the file (416)
  | 'HOST_NOT_ALLOWED' // no token is set and the Host header names none of the server's names (421, DNS rebinding)
  | 'INTERNAL';

/** Live content must never be served from a cache: a cached snapshot is a wrong snapshot. */
export const NO_STORE: OutgoingHttpHeaders = { 'Cache-Control': 'no-store, max-age=0' };

export const BASE_HEADERS: OutgoingHttpHeaders = { 'X-Content-Type-Options': 'nosniff' };

export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: OutgoingHttpHeaders = {},
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    ...BASE_HEADERS,
    ...NO_STORE,
    ...headers,
    'Content-Type': contentType,
    'Content-Length': bytes.length,
  });
  // For HEAD, node sends the headers (Content-Length included) and drops the body itself.
  res.end(bytes);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
  sendBody(res, status, 'application/json; charset=utf-8', `${JSON.stringify(value, null, 2)}\n`, headers);
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: HttpErrorCode,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  sendJson(res, status, { error: { code, message } }, headers);
}
