import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientMessageDecoder, V2_MAGIC, type ClientMessage } from '@edgecam/protocol';
import { CLIENT_NAME, encodeSafeHello, isLegacyCommandByte } from '../src/safe-hello.js';

function decode(opening: Buffer): ClientMessage[] {
  expect(opening.subarray(0, V2_MAGIC.length).equals(V2_MAGIC)).toBe(true);
  const out: ClientMessage[] = [];
  new ClientMessageDecoder().push(opening.subarray(V2_MAGIC.length), (m) => out.push(m));
  return out;
}

describe('the v2 opening', () => {
  it('is read back by the protocol\'s own decoder as the same HELLO, whatever the token', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ maxLength: 512, unit: 'grapheme' }), { nil: undefined }), (token) => {
        const hello = { client: CLIENT_NAME, ...(token !== undefined ? { token } : {}) };
        expect(decode(encodeSafeHello(hello))).toEqual([{ type: 'hello', hello }]);
      }),
    );
  });

  it('holds no legacy command byte (0 1 2 3 q) unless the token itself has one', () => {
    const safeChar = fc.constantFrom(...'abcdefghijklmnoprstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ456789-_.~!'.split(''));
    fc.assert(
      fc.property(fc.option(fc.string({ unit: safeChar, maxLength: 512 }), { nil: undefined }), (token) => {
        const opening = encodeSafeHello({ client: CLIENT_NAME, ...(token !== undefined ? { token } : {}) });
        expect([...opening].filter(isLegacyCommandByte)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('pads the JSON until no length byte is a command byte', () => {
    // {"client":"edgecam-cli","token":"..."} is 35 bytes plus the token: a 14-character token
    // makes 49 = '1' without padding.
    const opening = encodeSafeHello({ client: CLIENT_NAME, token: 'abcdefghijklmn' });
    const length = opening.readUInt32BE(V2_MAGIC.length + 1);
    expect(length).toBe(52);
    expect(opening.subarray(-3).toString()).toBe('   ');
  });
});
