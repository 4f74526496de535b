import { describe, expect, it } from 'vitest';
import { V2_MAGIC, detectProtocol, encodeHello } from '../src/index.js';
import { expectProtocolError } from './helpers.js';

describe('detectProtocol', () => {
  it.each([
    ['0', 'a single-frame request'],
    ['3', 'a stream request'],
    ['130q2', 'glued commands'],
    [' 3', 'whitespace typed first'],
    ['x', 'an unknown command (the legacy decoder reports it)'],
  ])('says legacy for %j (%s)', (head) => {
    expect(detectProtocol(Buffer.from(head))).toBe('legacy');
  });

  it('says more for no bytes yet', () => {
    expect(detectProtocol(Buffer.alloc(0))).toBe('more');
  });

  it('says more for every proper prefix of the magic', () => {
    for (let n = 1; n < V2_MAGIC.length; n++) expect(detectProtocol(V2_MAGIC.subarray(0, n))).toBe('more');
  });

  it('says v2 for the whole magic, and with the first message behind it', () => {
    expect(detectProtocol(V2_MAGIC)).toBe('v2');
    expect(detectProtocol(Buffer.concat([V2_MAGIC, encodeHello({})]))).toBe('v2');
  });

  it('is the 5 bytes E C A M 2', () => {
    expect(V2_MAGIC.toString('hex')).toBe('4543414d02');
  });

  it.each([
    ['EX', 'a wrong second byte'],
    ['ECAM\x01', 'a version 1 magic'],
    ['ECAM\x03', 'a future version'],
    ['ecam', 'lower case is legacy, not v2'],
  ])('handles %j (%s)', (head) => {
    if (head[0] === 'E') {
      const err = expectProtocolError(() => detectProtocol(Buffer.from(head, 'latin1')), 'BAD_MAGIC');
      expect(err.fatal).toBe(true);
    } else {
      expect(detectProtocol(Buffer.from(head, 'latin1'))).toBe('legacy');
    }
  });

  it('refuses a diverging magic as soon as the wrong byte arrives', () => {
    expectProtocolError(() => detectProtocol(Buffer.from('EC\x00')), 'BAD_MAGIC');
  });
});
