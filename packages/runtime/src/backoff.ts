/** The delay before retry number `attempt` (1-based): doubling from initialMs, capped at maxMs. */
export function backoffDelay(attempt: number, initialMs = 1000, maxMs = 30_000): number {
  return Math.min(initialMs * 2 ** Math.max(0, attempt - 1), maxMs);
}
