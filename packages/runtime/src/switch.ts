// The words a switch (a boolean flag's value or an EDGECAM_* variable) takes, the same for
// edgecam-server and the edgecam client.

const SWITCH_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['1', true], ['true', true], ['yes', true], ['on', true],
  ['0', false], ['false', false], ['no', false], ['off', false],
]);

/** SWITCH_WORDS in words, for refusals. */
export const SWITCH_EXPECT = 'on or off (1/0, true/false, yes/no)';

/** true or false for a switch word (any case, surrounding spaces ignored), else undefined. */
export function parseSwitch(text: string): boolean | undefined {
  return SWITCH_WORDS.get(text.trim().toLowerCase());
}
