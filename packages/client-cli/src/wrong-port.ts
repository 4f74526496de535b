import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { DEFAULT_PORT } from '@edgecam/protocol';
import { CliError, ExitCode } from './errors.js';
import { quoteText } from './peer-text.js';

/**
 * The two wrong ports people reach first: edgecam-server's HTTP port, and its TCP port over TLS
 * without --tls. Both otherwise end in a sentence about text or a timeout that names neither.
 */

/** True for an HTTP response: what an HTTP server answers to bytes it cannot parse. */
export function looksLikeHttp(head: Uint8Array): boolean {
  return Buffer.from(head.subarray(0, 5)).toString('latin1') === 'HTTP/';
}

/** True for a TLS record header (alert 0x15 or handshake 0x16, version 3.x): a TLS server's answer. */
export function looksLikeTls(head: Uint8Array): boolean {
  return head.length >= 2 && (head[0] === 0x15 || head[0] === 0x16) && head[1] === 0x03;
}

/** The sentence for a plain connection to a TLS port. */
export function needsTlsError(address: string): CliError {
  return new CliError(ExitCode.CONNECTION, `${address} speaks TLS; add --tls (and --fingerprint or --ca to trust a self-signed certificate)`);
}

/** An HTTP answer where the TCP port was expected: the address is an HTTP port. */
export class HttpPortError extends CliError {}

/** The sentence for an HTTP answer on the frame socket. */
export function httpPortError(address: string, head: Uint8Array): HttpPortError {
  const eol = head.indexOf(0x0d) >= 0 ? head.indexOf(0x0d) : head.indexOf(0x0a);
  const statusLine = eol >= 0 ? head.subarray(0, eol) : head;
  return new HttpPortError(
    ExitCode.PROTOCOL,
    `${address} looks like an HTTP port (it answered ${quoteText(statusLine)}); edgecam needs the server's TCP port, ${DEFAULT_PORT} by default (see --port)`,
  );
}

/** The sentence for a first answer that shows a wrong port (HTTP, or TLS without --tls); undefined for any other. */
export function wrongPortError(address: string, head: Uint8Array, overTls: boolean): CliError | undefined {
  if (looksLikeHttp(head)) return httpPortError(address, head);
  if (looksLikeTls(head) && !overTls) return needsTlsError(address);
  return undefined;
}

/**
 * Whether HOST:PORT completes a TLS handshake (or answers with a TLS alert) within `timeoutMs`.
 * The certificate is not checked and nothing is sent after the handshake: this only asks what
 * the port speaks.
 */
export async function speaksTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  // Loaded when asked: node:tls (and OpenSSL's set-up) is a good part of a command's start-up.
  const { default: tls } = await import('node:tls');
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false });
    const done = (yes: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(yes);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    // An alert is a TLS answer too; a wrong version number means the reply was not TLS.
    socket.once('error', (err: NodeJS.ErrnoException) => done(/ALERT/.test(err.code ?? '')));
  });
}

/**
 * For a legacy attempt made after the server hung up on the v2 opening without a word (what a
 * TLS server does): once a command has gone out and `quietMs` passed without a byte back, ask
 * whether the port speaks TLS, and if it does, end the stream with that sentence instead of
 * letting it run into --timeout. Bytes pass through untouched; any byte ends the watch.
 */
export function failIfQuietTls(
  probe: () => Promise<boolean>,
  quietMs: number,
  commandSent: () => boolean,
  address: string,
): MonoTypeOperatorFunction<Buffer> {
  return (bytes$) =>
    new Observable<Buffer>((subscriber) => {
      let heard = false;
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        if (heard) return;
        if (!commandSent()) {
          timer = setTimeout(check, quietMs);
          return;
        }
        void probe().then((yes) => {
          if (yes && !heard) subscriber.error(needsTlsError(address));
        });
      };
      timer = setTimeout(check, quietMs);
      const sub = bytes$.subscribe({
        next: (chunk) => {
          if (!heard) {
            heard = true;
            clearTimeout(timer);
          }
          subscriber.next(chunk);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        clearTimeout(timer);
        sub.unsubscribe();
      };
    });
}
