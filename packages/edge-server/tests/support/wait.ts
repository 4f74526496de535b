// Polling waits with a deadline, so a test under load waits longer but never hangs.
// The real clock and timer, taken before any test fakes them: a test on fake timers can still
// wait for a real event (a child's output, a socket closing) between advancing its virtual time.
const now = performance.now.bind(performance);
const realSetTimeout = globalThis.setTimeout;

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!cond()) {
    if (now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => realSetTimeout(r, ms));
}
