import { ExitCode } from './errors.js';
import { clearLiveLine, printError } from './terminal.js';

export interface Interrupt {
  /** Aborted on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Turns Ctrl-C and SIGTERM into an AbortSignal, so commands can stop cleanly (send `q`, close the
 * file with its index). A second signal means "now": exit at once with 130.
 */
export function onInterrupt(): Interrupt {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      clearLiveLine();
      printError(`edgecam: ${sig} again; exiting without finishing`);
      process.exit(ExitCode.INTERRUPTED);
    }
    controller.abort(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
