import type { ErrorBody } from '@edgecam/protocol';
import { CliError, ExitCode } from './errors.js';

/**
 * A v2 ERROR as a sentence: before the WELCOME it turns us away, after it it ends the session.
 * UNAUTHORIZED gets its own sentence, which says what to do about the token.
 */
export function serverError(e: ErrorBody, beforeWelcome: boolean, tokenSent?: boolean): CliError {
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
  const what = beforeWelcome ? 'the server refused the connection' : 'the server ended the session';
  return new CliError(ExitCode.CONNECTION, `${what}: ${e.message} (${e.code})`);
}
