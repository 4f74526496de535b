import { Observable, catchError, defer, tap, throwError, type OperatorFunction } from 'rxjs';
import { ProtocolError, isFatalErrorCode, type CapturedFrame, type ServerMessage } from '@edgecam/protocol';
import { decodeServerMessages } from '@edgecam/protocol/rx';
import { CliError, ExitCode, errorText } from './errors.js';
import { PEEK_BYTES, looksLikeText, quoteText, visibleText } from './peer-text.js';
import { serverError } from './server-error.js';

/**
 * v2 bytes to messages. Bad bytes and a cut in the middle of a message become CliErrors; a clean
 * close completes (what a close means depends on whether the WELCOME came); socket errors pass.
 */
export function readV2Messages(opts: { maxFrameBytes: number }): OperatorFunction<Buffer, ServerMessage> {
  return (bytes$) =>
    defer(() => {
      let last: Buffer | undefined;
      return bytes$.pipe(
        tap((chunk) => (last = chunk)),
        decodeServerMessages({ maxFrameBytes: opts.maxFrameBytes }),
        catchError((err: unknown) => throwError(() => (err instanceof ProtocolError ? describe(err, last) : err))),
      );
    });
}

/** True for the error readV2Messages gives when the stream ended inside a message. */
export function isCut(err: unknown): boolean {
  return err instanceof CliError && err.cause instanceof ProtocolError && err.cause.code === 'TRUNCATED';
}

function describe(err: ProtocolError, chunk: Buffer | undefined): CliError {
  if (err.code === 'TRUNCATED') {
    const partial = /(\d+) bytes/.exec(err.message)?.[1];
    const had = partial !== undefined ? ` (${partial} bytes of it had arrived)` : '';
    return new CliError(ExitCode.CONNECTION, `the connection was cut in the middle of a message${had}`, { cause: err });
  }
  const head = chunk?.subarray(0, PEEK_BYTES);
  if (head !== undefined && looksLikeText(head)) {
    return new CliError(ExitCode.PROTOCOL, `the server sent text instead of a v2 message: ${quoteText(head)}`);
  }
  return new CliError(ExitCode.PROTOCOL, `the server broke the v2 protocol: ${errorText(err)}`, { cause: err });
}

/**
 * The messages after the WELCOME to frames, with the server's sequence numbers and capture
 * times. A fatal ERROR ends the stream with its sentence, and so does the server's close; a
 * non-fatal one (the server's camera is down, SOURCE_UNAVAILABLE) goes to `onNotice` and the
 * stream goes on, since frames follow when the camera is back.
 */
export function v2Frames(onNotice: (message: string) => void = () => undefined): OperatorFunction<ServerMessage, CapturedFrame> {
  // One operator rather than tap, filter and map: this runs for every frame.
  return (messages$) =>
    new Observable<CapturedFrame>((subscriber) =>
      messages$.subscribe({
        next: (m) => {
          if (m.type === 'frame') {
            subscriber.next({ seq: m.seq, captureTimeUs: m.captureTimeUs, jpeg: m.jpeg });
          } else if (m.type === 'error') {
            if (isFatalErrorCode(m.error.code)) subscriber.error(serverError(m.error, false));
            else onNotice(visibleText(m.error.message));
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.error(new CliError(ExitCode.CONNECTION, 'the server closed the connection')),
      }),
    );
}
