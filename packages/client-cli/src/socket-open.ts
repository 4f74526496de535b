import net, { type OnReadOpts, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describeSystemError } from '@edgecam/runtime';
import { CliError, ExitCode } from './errors.js';
import type { TlsOptions } from './connection.js';

/** `host:port`, with brackets around an IPv6 address. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
export { seconds as formatSeconds };

/** A sentence for a failed connect, with the reason for its errno. */
export function connectError(address: string, err: NodeJS.ErrnoException): CliError {
  return new CliError(ExitCode.CONNECTION, `could not connect to ${address}: ${describeSystemError(err)}`, { cause: err });
}

/**
 * The sentence for a connect that got no answer within `--timeout` (a host that is down or
 * filtered, which the kernel reports as ETIMEDOUT only minutes later), or, over TLS, a TCP
 * connection whose handshake never came.
 */
export function connectTimeout(address: string, timeoutMs: number, inTlsHandshake: boolean): CliError {
  const within = seconds(timeoutMs);
  return inTlsHandshake
    ? new CliError(ExitCode.CONNECTION, `could not connect securely to ${address}: no TLS handshake within ${within} (does the server speak TLS on this port?)`)
    : new CliError(ExitCode.CONNECTION, `could not connect to ${address}: no answer within ${within} (is the host up, and the address right?)`, {
        cause: Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }),
      });
}

const PIN_HINT = 'edgecam-server prints its fingerprint when it starts';

/** A sentence for a failed TLS handshake or certificate check. */
export function tlsError(address: string, host: string, err: NodeJS.ErrnoException, opts: TlsOptions): CliError {
  const code = err.code ?? '';
  let why: string;
  let exit: typeof ExitCode.TLS | typeof ExitCode.CONNECTION = ExitCode.TLS;
  if (
    [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'UNABLE_TO_GET_ISSUER_CERT',
    ].includes(code)
  ) {
    why = opts.ca
      ? 'its certificate is not signed by the CA given with --ca'
      : `its certificate is not signed by a CA this machine trusts (self-signed?): pass the CA with --ca FILE, or pin the certificate with --fingerprint (${PIN_HINT})`;
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    why = `its certificate is not made out to ${host} (connect by a name or address it lists, or pin it with --fingerprint)`;
  } else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    why = code === 'CERT_HAS_EXPIRED' ? 'its certificate has expired' : 'its certificate is not valid yet (is the clock right?)';
  } else if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    why = 'the TLS handshake failed: the server does not seem to speak TLS on this port (leave out --tls, --ca and --fingerprint)';
  } else if (code === 'ECONNRESET' || code === 'EPIPE') {
    why = 'the connection was closed during the TLS handshake: the server may not speak TLS on this port';
    exit = ExitCode.CONNECTION;
  } else {
    return connectError(address, err);
  }
  return new CliError(exit, `could not connect securely to ${address}: ${why}`, { cause: err });
}

/** The SHA-256 fingerprint check of --fingerprint; undefined when the certificate matches. */
export function fingerprintMismatch(address: string, got: string | undefined, want: string): CliError | undefined {
  if (got !== undefined && got.toUpperCase() === want) return undefined;
  return new CliError(
    ExitCode.TLS,
    `the certificate of ${address} does not match --fingerprint: it has ${got ?? 'no fingerprint'}, expected ${want}. ` +
      `It may not be your server, or its certificate was made anew (${PIN_HINT}); nothing was sent`,
  );
}

/**
 * Opens a TCP connection, or a TLS one when `tlsOpts` is given, failing with a CliError within
 * `timeoutMs` (handshake included). The socket has Nagle off: commands are single bytes and
 * must leave at once. With a fingerprint the certificate is trusted when, and only when, its
 * SHA-256 matches, whoever signed it: that is how a self-signed certificate is accepted.
 * `reads` (plain TCP only) makes it read into one buffer of its own (socket-reads.ts).
 */
export async function openSocket(host: string, port: number, timeoutMs: number, tlsOpts?: TlsOptions, reads?: OnReadOpts): Promise<Socket> {
  const address = formatAddress(host, port);
  // node:tls only for TLS: loading it (OpenSSL's set-up) is a good part of a command's start-up.
  const tls = tlsOpts ? (await import('node:tls')).default : undefined;
  return new Promise((resolve, reject) => {
    const socket: Socket | TLSSocket = tlsOpts && tls
      ? tls.connect({
          host,
          port,
          // SNI takes host names only.
          ...(net.isIP(host) === 0 ? { servername: host } : {}),
          ...(tlsOpts.ca !== undefined ? { ca: tlsOpts.ca } : {}),
          rejectUnauthorized: tlsOpts.fingerprint === undefined,
        })
      : net.connect({ host, port, ...(reads ? { onread: reads } : {}) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(connectTimeout(address, timeoutMs, tlsOpts !== undefined && tcpConnected));
    }, timeoutMs);
    let tcpConnected = false;
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(tlsOpts && tcpConnected ? tlsError(address, host, err, tlsOpts) : connectError(address, err));
    };
    socket.once('error', onError);
    socket.once('connect', () => (tcpConnected = true));
    const ready = () => {
      clearTimeout(timer);
      if (tlsOpts?.fingerprint !== undefined) {
        const mismatch = fingerprintMismatch(address, (socket as TLSSocket).getPeerCertificate().fingerprint256, tlsOpts.fingerprint);
        if (mismatch) {
          socket.destroy();
          reject(mismatch);
          return;
        }
      }
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    };
    socket.once(tlsOpts ? 'secureConnect' : 'connect', ready);
  });
}
