import { catchError, concatWith, defer, map, tap, throwError, type OperatorFunction } from 'rxjs';
import { FRAME_HEADER_LENGTH, ProtocolError, type CapturedFrame } from '@edgecam/protocol';
import { decodeFrames } from '@edgecam/protocol/rx';
import { nowUs } from '@edgecam/runtime';
import { CliError, ExitCode, errorText } from './errors.js';
import { ItemPeek, looksLikeText, quoteText } from './peer-text.js';
import { httpPortError, looksLikeHttp, looksLikeTls, needsTlsError } from './wrong-port.js';

/** What the legacy reader needs to know to word its errors. */
export interface LegacyReaderOptions {
  /** `host:port`, for the sentences that name the port. */
  address: string;
  maxFrameBytes: number;
  /** The socket is TLS: the refusal hint then does not suggest --tls. */
  overTls: boolean;
  /** When our first command left (performance.now()), or undefined before it. */
  firstCommandAt: () => number | undefined;
}

/** A close this soon after the first command, before any byte, reads as a refusal. */
const REFUSAL_WINDOW_MS = 2000;

/**
 * Legacy bytes to frames. Legacy frames carry no metadata, so they are numbered locally and
 * stamped on arrival. Every way the stream ends (bad bytes, a cut, a close) is a CliError.
 */
export function readLegacyFrames(opts: LegacyReaderOptions): OperatorFunction<Buffer, CapturedFrame> {
  return (bytes$) =>
    defer(() => {
      // The peek keeps the head of the frame being decoded, to quote text a seed server sent.
      const peek = new ItemPeek();
      let received = 0;
      let consumed = 0;
      let seq = 0;
      const describe = (err: unknown): unknown => {
        if (err instanceof CliError) return err;
        if (err instanceof ProtocolError) {
          return err.code === 'TRUNCATED' ? endError(received - consumed) : protocolError(err);
        }
        // A socket error: the connection names it.
        return err;
      };
      const textError = (head: Buffer): CliError =>
        looksLikeHttp(head)
          ? httpPortError(opts.address, head)
          : new CliError(ExitCode.PROTOCOL, `the server sent text instead of a frame: ${quoteText(head)}`);
      const protocolError = (err: ProtocolError): CliError => {
        const head = peek.current();
        if (looksLikeText(head)) return textError(head);
        if (received === head.length && looksLikeTls(head) && !opts.overTls) return needsTlsError(opts.address);
        if (err.code === 'FRAME_TOO_LARGE' && head.length >= FRAME_HEADER_LENGTH) {
          return new CliError(
            ExitCode.PROTOCOL,
            `the server announced a frame of ${head.readUInt32BE(0)} bytes, over the limit of ${opts.maxFrameBytes} bytes; refusing it`,
          );
        }
        return new CliError(ExitCode.PROTOCOL, `the server broke the legacy protocol: ${errorText(err)}`, { cause: err });
      };
      const endError = (partial: number): CliError => {
        const first = opts.firstCommandAt();
        const sinceCommand = first === undefined ? Infinity : performance.now() - first;
        if (partial === 0 && received === 0 && sinceCommand < REFUSAL_WINDOW_MS) {
          // Closed at our first command without a byte: how a server that wants a token (or TLS)
          // turns a legacy client away, since the protocol has no way to say why.
          const tls = opts.overTls ? '' : '; a server with TLS needs --tls (or --fingerprint, --ca)';
          return new CliError(
            ExitCode.CONNECTION,
            `the server closed the connection without sending anything (a server with a token refuses legacy clients unless started with --allow-legacy${tls})`,
          );
        }
        if (partial === 0) return new CliError(ExitCode.CONNECTION, 'the server closed the connection');
        const head = peek.current();
        if (looksLikeText(head)) return textError(head);
        if (received === partial && looksLikeTls(head) && !opts.overTls) return needsTlsError(opts.address);
        return new CliError(ExitCode.CONNECTION, `the connection was cut in the middle of a frame (${partial} bytes of it had arrived)`);
      };
      return bytes$.pipe(
        tap((chunk) => {
          // The decoder is done with the previous chunk once the next one comes.
          peek.settle();
          peek.chunk(chunk);
          received += chunk.length;
        }),
        decodeFrames({ maxFrameBytes: opts.maxFrameBytes }),
        map((jpeg): CapturedFrame => {
          const size = FRAME_HEADER_LENGTH + jpeg.length;
          peek.itemDone(size);
          consumed += size;
          return { seq: seq++, captureTimeUs: nowUs(), jpeg };
        }),
        concatWith(defer(() => throwError(() => endError(0)))),
        catchError((err: unknown) => throwError(() => describe(err))),
      );
    });
}
