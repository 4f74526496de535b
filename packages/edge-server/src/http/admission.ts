// What every request passes before its endpoint runs: the Host (without a token), the per-host
// rate limit, then the token.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessVerdict } from '../access/access-control.js';
import { formatPeerAddress } from '../log/peer-address.js';
import { peerText, showPeerText } from '../log/peer-text.js';
import { AUTH_CHALLENGE, presentedTokens } from './http-credentials.js';
import { sendError } from './responses.js';
import type { Route } from './route.js';
import type { HttpContext } from './routes.js';

/**
 * Host, rate limit and token, before the route (undefined: no such path) runs. A long route (a
 * stream) is limited by its own counts instead of the per-host request rate; an open one
 * (/healthz: probes rarely carry secrets, and it shows no image) needs no token and takes any
 * Host. Returns false when it has answered already.
 */
export function admit(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, route: Route | undefined): boolean {
  const open = route?.open === true;
  // With a token, the token is the defence against DNS rebinding: a page cannot know it.
  const { host } = req.headers;
  if (!ctx.access?.required && !open && !ctx.hostAllowed(host)) {
    ctx.log.info({ peer: formatPeerAddress(req.socket), host: peerText(host ?? '') }, 'request for a host name not ours refused (allowedHosts)');
    sendError(
      res,
      421,
      'HOST_NOT_ALLOWED',
      `without a token this server does not answer to ${showPeerText(host ?? '')}, so that no web page can reach it under a name of its own (DNS rebinding): add the name to allowedHosts (--allowed-hosts), or set a token`,
    );
    return false;
  }
  const limiter = ctx.rateLimiter;
  if (limiter && route?.long !== true) {
    const waitMs = limiter.take(req.socket.remoteAddress, Date.now());
    if (waitMs > 0) {
      ctx.log.debug({ peer: formatPeerAddress(req.socket), path: peerText(path) }, 'rate limited');
      sendError(res, 429, 'RATE_LIMITED', 'too many requests from your address; slow down', {
        'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))),
      });
      return false;
    }
  }
  const { access } = ctx;
  if (!access?.required || open) return true;
  // Two different tokens in one request would be two guesses for the price of one failure:
  // such a request is refused before either is compared (the same token twice is one).
  const presented = [...new Set(presentedTokens(req.headers.authorization, query))];
  if (presented.length > 1) {
    ctx.log.info({ peer: formatPeerAddress(req.socket), path: peerText(path) }, 'access refused: two different tokens in one request');
    sendError(res, 400, 'BAD_REQUEST', 'send the token once: in the Authorization header or as ?token=, not two different ones');
    return false;
  }
  const verdict = access.check({ address: req.socket.remoteAddress, port: req.socket.remotePort }, presented, 'http');
  if (verdict.ok) return true;
  refuse(res, verdict);
  return false;
}

function refuse(res: ServerResponse, verdict: Exclude<AccessVerdict, { ok: true }>): void {
  if (verdict.reason === 'throttled') {
    sendError(res, 429, 'TOO_MANY_FAILURES', verdict.message, {
      'Retry-After': String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))),
    });
    return;
  }
  const message =
    verdict.reason === 'missing'
      ? `${verdict.message}: send it as a Bearer token, as the password of Basic authentication, or as ?token=`
      : verdict.message;
  sendError(res, 401, 'UNAUTHORIZED', message, { 'WWW-Authenticate': AUTH_CHALLENGE });
}
