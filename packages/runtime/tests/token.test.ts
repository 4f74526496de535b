import { describe, expect, it } from 'vitest';
import { TOKEN_EXPECT, TOKEN_PATTERN } from '../src/index.js';

describe('TOKEN_PATTERN', () => {
  it('takes 1 to 512 printable ASCII characters', () => {
    expect(TOKEN_PATTERN.test('s3cret')).toBe(true);
    expect(TOKEN_PATTERN.test('!~'.repeat(256))).toBe(true);
  });

  it('refuses an empty or too long token, spaces, control characters and non-ASCII', () => {
    for (const bad of ['', 'x'.repeat(513), 'two words', 'tab\there', 'line\n', 'caf\u00e9']) {
      expect(TOKEN_PATTERN.test(bad), JSON.stringify(bad)).toBe(false);
    }
  });

  it('says the same in words', () => {
    expect(TOKEN_EXPECT).toBe('1 to 512 printable ASCII characters, no spaces');
  });
});
