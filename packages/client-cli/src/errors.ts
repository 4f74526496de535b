import { describeSystemError } from '@edgecam/runtime';

/**
 * Exit codes of the `edgecam` command. Scripts branch on them, so a code never changes meaning.
 */
export const ExitCode = {
  OK: 0,
  /** A bug or something nobody planned for. */
  UNEXPECTED: 1,
  /** A bad flag, value or argument. */
  USAGE: 2,
  /** Refused, unreachable, timed out, cut, or turned away by the server. */
  CONNECTION: 3,
  /** The server sent bytes that do not follow the protocol. */
  PROTOCOL: 4,
  /** A file could not be read, written or understood. */
  FILE: 5,
  /**
   * The server could not be trusted: its TLS certificate is not signed by a trusted CA (or --ca),
   * names another host, or does not match --fingerprint; or the TLS handshake failed.
   */
  TLS: 6,
  /** Ctrl-C or SIGTERM before anything was saved. */
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A failure the CLI reports as one sentence and an exit code. `message` is written for people:
 * it says what happened and, where there is one, what to do.
 */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;

  constructor(exitCode: ExitCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function usageError(message: string): CliError {
  return new CliError(ExitCode.USAGE, message);
}

/** Turns a filesystem error into a sentence that names the file and the reason. */
export function fileError(action: string, path: string, err: unknown): CliError {
  return new CliError(ExitCode.FILE, `could not ${action} ${path}: ${describeSystemError(err)}`, { cause: err });
}

/** Anything thrown, as a CliError: itself when it is one, else an unexpected error that keeps it as its cause. */
export function asCliError(err: unknown): CliError {
  return err instanceof CliError ? err : new CliError(ExitCode.UNEXPECTED, errorText(err), { cause: err });
}

/** The message of anything thrown, without a stack. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
