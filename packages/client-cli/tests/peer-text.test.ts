import { describe, expect, it } from 'vitest';
import { ItemPeek, looksLikeText, quoteText } from '../src/peer-text.js';

describe('looksLikeText', () => {
  it.each([
    ['Unknown command', true],
    ['Unkn', true],
    ['ok', false],
    ['\u0000\u0000\u0012\u0034', false],
    ['...', false],
    ['HTTP/1.1 400 Bad Request\r\n', true],
  ])('%j -> %s', (text, expected) => {
    expect(looksLikeText(Buffer.from(text, 'latin1'))).toBe(expected);
  });

  it('refuses binary with a few letters in it', () => {
    expect(looksLikeText(Buffer.from([0xff, 0xd8, 0x41, 0x42, 0x43]))).toBe(false);
  });
});

describe('quoteText', () => {
  it('quotes and shortens', () => {
    expect(quoteText(Buffer.from('Unknown command'))).toBe('"Unknown command"');
    expect(quoteText(Buffer.from('x'.repeat(60)), 10)).toBe(`"${'x'.repeat(10)}"…`);
  });
});

describe('ItemPeek', () => {
  it('follows item boundaries across chunks to the item being decoded', () => {
    const peek = new ItemPeek();
    // Chunk 1: a whole 6-byte item, then 2 bytes of the next.
    peek.chunk(Buffer.from('AAAAAABB'));
    peek.itemDone(6);
    peek.settle();
    expect(peek.current().toString()).toBe('BB');
    // Chunk 2: the rest of the item has started; the peek grows with it.
    peek.chunk(Buffer.from('CCDD'));
    expect(peek.current().toString()).toBe('BBCCDD');
    peek.itemDone(5); // item "BBCCD" done, "D" starts the next
    expect(peek.current().toString()).toBe('D');
    peek.settle();
    expect(peek.current().toString()).toBe('D');
  });

  it('keeps at most 64 bytes of an item', () => {
    const peek = new ItemPeek();
    peek.chunk(Buffer.alloc(50, 0x61));
    peek.settle();
    peek.chunk(Buffer.alloc(50, 0x62));
    expect(peek.current()).toHaveLength(64);
    peek.settle();
    peek.chunk(Buffer.alloc(10, 0x63));
    expect(peek.current().toString()).toBe('a'.repeat(50) + 'b'.repeat(14));
  });
});
