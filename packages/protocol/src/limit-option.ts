/** A decoder's limit option: `value`, or `fallback` when unset; a RangeError unless a non-negative integer. */
export function limitOption(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  return v;
}
