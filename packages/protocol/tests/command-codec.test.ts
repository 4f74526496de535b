import { describe, expect, it } from 'vitest';
import { Command, CommandDecoder, encodeCommands, isCommandChar, type CommandEvent } from '../src/index.js';
import { hex } from './fixtures/bytes.js';
import { commandFixtures } from './fixtures/v1-commands.js';
import { byteAtATime, cut, decodeChunks, expectProtocolError } from './helpers.js';

const encodable = commandFixtures.filter((f) => f.encodedFrom !== undefined);

describe('v1 command fixtures', () => {
  it.each(commandFixtures)('decodes $name', ({ bytes, events }) => {
    expect(decodeChunks(new CommandDecoder(), [Buffer.from(bytes)])).toEqual(events);
  });

  it.each(commandFixtures)('decodes $name fed one byte at a time', ({ bytes, events }) => {
    expect(decodeChunks(new CommandDecoder(), byteAtATime(Buffer.from(bytes)))).toEqual(events);
  });

  it.each(commandFixtures)('decodes $name cut at every offset', ({ bytes, events }) => {
    const buf = Buffer.from(bytes);
    for (let i = 0; i <= buf.length; i++) {
      expect(decodeChunks(new CommandDecoder(), cut(buf, [i]))).toEqual(events);
    }
  });

  it.each(encodable)('encodes $name to the fixture bytes', ({ encodedFrom, bytes }) => {
    expect(hex(encodeCommands(encodedFrom!))).toBe(hex(bytes));
  });

  it.each(encodable)('round-trips $name', ({ encodedFrom }) => {
    const events = decodeChunks(new CommandDecoder(), [encodeCommands(encodedFrom!)]);
    expect(events.map((e) => (e.kind === 'command' ? e.command : '?')).join('')).toBe(encodedFrom);
  });
});

describe('CommandDecoder', () => {
  it('stays in sync after unknown bytes: every later command is still seen', () => {
    const decoder = new CommandDecoder();
    const events: CommandEvent[] = [];
    decoder.push(Buffer.from('Unknown command'), (e) => events.push(e));
    decoder.push(Buffer.from('3'), (e) => events.push(e));
    expect(events.filter((e) => e.kind === 'unknown')).toHaveLength(14); // 'Unknown command' minus the space
    expect(events.at(-1)).toEqual({ kind: 'command', command: '3' });
  });

  it('never throws, whatever the bytes', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const events = decodeChunks(new CommandDecoder(), [all]);
    expect(events.filter((e) => e.kind === 'command')).toHaveLength(5);
    expect(events.filter((e) => e.kind === 'unknown')).toHaveLength(256 - 5 - 4);
  });

  it('keeps nothing buffered between chunks', () => {
    const decoder = new CommandDecoder();
    decoder.push(Buffer.from('30'), () => {});
    expect(decoder.bufferedBytes).toBe(0);
  });
});

describe('encodeCommands', () => {
  it('refuses a character that is not a command, naming it and its position', () => {
    const err = expectProtocolError(() => encodeCommands('3x'), 'BAD_PAYLOAD');
    expect(err.message).toContain('"x"');
    expect(err.message).toContain('index 1');
    expect(err.fatal).toBe(false);
  });

  it('refuses whitespace, which a seed server would misread', () => {
    expectProtocolError(() => encodeCommands('3\n'), 'BAD_PAYLOAD');
  });

  it('encodes the Command constants', () => {
    expect(encodeCommands(Object.values(Command).join('')).toString('latin1')).toBe('0123q');
    expect(Object.values(Command).every(isCommandChar)).toBe(true);
  });
});
