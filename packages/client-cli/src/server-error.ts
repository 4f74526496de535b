import type { ErrorBody } from '@edgecam/protocol';
import { CliError, ExitCode } from './errors.js';
import { visibleText } from './peer-text.js';

/**
 * A v2 ERROR as a sentence: before the WELCOME it turns us away, after it it ends the session.
 * UNAUTHORIZED gets its own sentence, which says what to do about the token.
 */
export function serverError(peer: ErrorBody, beforeWelcome: boolean, tokenSent?: boolean): CliError {
  // Both fields are the peer's words, and end up on a terminal.
  const e = { code: visibleText(peer.code), message: visibleText(peer.message) };
  if (e.code === 'UNAUTHORIZED') {
    if (/too many wrong tokens/.test(e.message)) {
      return new CliError(ExitCode.CONNECTION, `the server refused the connection: ${e.message} (UNAUTHORIZED)`);
    }
    return new CliError(
      ExitCode.CONNECTION,
      tokenSent
        ? `the server refused our token: ${e.message} (UNAUTHORIZED); check --token or EDGECAM_TOKEN`
        : `the server requires a token: ${e.message} (UNAUTHORIZED); pass it with --token or EDGECAM_TOKEN`,
    );
  }
  if (e.code === 'UNKNOWN_CAMERA') {
    return new CliError(ExitCode.CONNECTION, `the server refused the camera: ${e.message} (UNKNOWN_CAMERA); pick one of them with --camera`);
  }
  const what = beforeWelcome ? 'the server refused the connection' : 'the server ended the session';
  return new CliError(ExitCode.CONNECTION, `${what}: ${e.message} (${e.code})`);
}
