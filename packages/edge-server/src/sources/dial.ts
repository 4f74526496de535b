// Opening the one connection of a tcp:// or edgecam(s):// source: plain TCP, or TLS trusted by the
// system's CAs or pinned by the certificate's SHA-256 (how a self-signed edgecam-server is
// trusted: it prints its fingerprint when it starts). Every failure is one sentence naming the
// address and what to change; the pin is checked before a byte is sent.
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { describeSystemError } from '@edgecam/runtime';
import { EdgeServerError } from '../errors.js';
import type { Endpoint } from './host-resolver.js';
import { hostPortText } from './network-url.js';

/** TLS for a dial: the name the certificate must be made out to (unless pinned), and the pin. */
export interface DialTls {
  servername: string;
  /** `AB:CD:…`; null: the system's CAs decide. */
  fingerprint: string | null;
}

/** What a dial reports: ready once (connected, handshake done, pin checked); fail at most once, before or after ready. */
export interface DialHandlers {
  ready: (socket: Socket) => void;
  fail: (err: Error) => void;
}

const PIN_HINT = 'edgecam-server prints its fingerprint when it starts';
const UNTRUSTED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT']);

/** The sentence for a failed TLS handshake or certificate check. */
function tlsFailure(address: string, servername: string, err: NodeJS.ErrnoException): Error {
  const code = err.code ?? '';
  const refused = (why: string) => new EdgeServerError('SOURCE_REFUSED', `could not connect securely to ${address}: ${why}`);
  if (UNTRUSTED.has(code)) {
    return refused(`its certificate is not signed by a CA this machine trusts (self-signed?); pin it with ?fingerprint=SHA256 in the source (${PIN_HINT})`);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return refused(`its certificate is not made out to ${servername}; connect by a name it lists, or pin it with ?fingerprint=SHA256`);
  if (code === 'CERT_HAS_EXPIRED') return refused('its certificate has expired; renew it, or pin it with ?fingerprint=SHA256');
  if (code === 'CERT_NOT_YET_VALID') return refused('its certificate is not valid yet; check the clocks of both machines');
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || code === 'ECONNRESET') {
    return new EdgeServerError('SOURCE_PROTOCOL', `could not connect securely to ${address}: the TLS handshake failed (does it serve TLS on this port? if not, write edgecam:// instead of edgecams://)`);
  }
  return new Error(`could not connect to ${address}: ${describeSystemError(err)}`);
}

/**
 * Connects to the endpoint (over TLS when `secure` is given) with Nagle off: the seed's commands
 * are single bytes that must leave at once. Returns the socket so the caller can destroy it at any
 * time; a destroyed socket reports nothing more.
 */
export function dial(to: Endpoint, secure: DialTls | null, on: DialHandlers): Socket {
  const address = hostPortText(to.host, to.port);
  const socket: Socket | TLSSocket = secure
    ? tls.connect({
        host: to.host,
        port: to.port,
        // SNI takes host names only.
        ...(net.isIP(secure.servername) === 0 ? { servername: secure.servername } : {}),
        rejectUnauthorized: secure.fingerprint === null,
        // Checked against the name in the source, not the address a resolver found.
        checkServerIdentity: (_host, cert) => tls.checkServerIdentity(secure.servername, cert),
      })
    : net.connect({ host: to.host, port: to.port });
  let tcpUp = false;
  let up = false;
  socket.once('connect', () => (tcpUp = true));
  socket.on('error', (err: NodeJS.ErrnoException) => {
    socket.destroy();
    if (up) on.fail(new Error(`the connection to ${address} failed: ${describeSystemError(err)}`));
    else on.fail(secure && tcpUp ? tlsFailure(address, secure.servername, err) : new Error(`could not connect to ${address}: ${describeSystemError(err)}`));
  });
  socket.once(secure ? 'secureConnect' : 'connect', () => {
    if (secure?.fingerprint) {
      const got = (socket as TLSSocket).getPeerCertificate().fingerprint256;
      if (got?.toUpperCase() !== secure.fingerprint) {
        socket.destroy();
        on.fail(
          new EdgeServerError(
            'SOURCE_REFUSED',
            `the certificate of ${address} does not match the fingerprint in the source: it has ${got ?? 'none'}, expected ${secure.fingerprint}; ` +
              `it may not be your device, or its certificate was made anew (${PIN_HINT}); nothing was sent`,
          ),
        );
        return;
      }
    }
    up = true;
    socket.setNoDelay(true);
    on.ready(socket);
  });
  return socket;
}
