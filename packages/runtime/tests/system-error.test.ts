import { describe, expect, it } from 'vitest';
import { describeSystemError } from '../src/index.js';

describe('describeSystemError', () => {
  it('names the cause of a known errno', () => {
    const err = Object.assign(new Error('open /x: EACCES'), { code: 'EACCES' });
    expect(describeSystemError(err)).toBe('permission denied');
  });

  it('falls back to the message, or the text of a non-error', () => {
    expect(describeSystemError(Object.assign(new Error('odd'), { code: 'EWHATEVER' }))).toBe('odd');
    expect(describeSystemError('plain')).toBe('plain');
    expect(describeSystemError(undefined)).toBe('undefined');
  });
});
