/** Resolves after `ms`: for pacing writes, never for waiting on a result (poll with a deadline). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
