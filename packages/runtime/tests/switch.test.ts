import { describe, expect, it } from 'vitest';
import { SWITCH_EXPECT, parseSwitch } from '../src/index.js';

describe('parseSwitch', () => {
  it.each(['1', 'true', 'yes', 'on', 'ON', ' Yes '])('takes %j as on', (word) => {
    expect(parseSwitch(word)).toBe(true);
  });

  it.each(['0', 'false', 'no', 'off', 'Off', '\tNO\n'])('takes %j as off', (word) => {
    expect(parseSwitch(word)).toBe(false);
  });

  it.each(['', 'y', 'n', 'enabled', '2', 'o n'])('leaves %j undefined', (word) => {
    expect(parseSwitch(word)).toBeUndefined();
  });

  it('names the words in its refusal text', () => {
    expect(SWITCH_EXPECT).toBe('on or off (1/0, true/false, yes/no)');
  });
});
