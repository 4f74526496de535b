import { afterEach } from 'vitest';

/** A list a test pushes its cleanups to (servers, processes); run after each test, newest first. */
export function cleanupsAfterEach(): Array<() => Promise<void>> {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  return cleanups;
}
