import { describe, expect, it } from 'vitest';
import { nowUs } from '../src/index.js';

describe('nowUs', () => {
  it('gives whole microseconds since the Unix epoch, close to Date.now()', () => {
    const us = nowUs();
    expect(Number.isSafeInteger(us)).toBe(true);
    expect(Math.abs(us / 1000 - Date.now())).toBeLessThan(1000);
  });

  it('never goes backwards', () => {
    let last = nowUs();
    for (let i = 0; i < 10_000; i++) {
      const now = nowUs();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
  });
});
