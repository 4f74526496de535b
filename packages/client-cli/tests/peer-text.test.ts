import { afterEach, describe, expect, it } from 'vitest';
import { ItemPeek, looksLikeText, quoteText, terminalText, visibleText } from '../src/peer-text.js';
import { startFakeV2Server } from './fake-v2-server.js';
import { runCli, tempDir } from './run-cli.js';
import { startScriptedServer } from './scripted-server.js';
import { testFrames } from './test-frames.js';

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

describe('visibleText and terminalText', () => {
  it('write out every control character, so a peer can neither drive the terminal nor start a line', () => {
    expect(visibleText('a\x1b[2Jb\x07c\rd\ne\x9bf\u202eg')).toBe('a\\x1b[2Jb\\x07c\\rd\\ne\\x9bf\\u202eg');
    expect(visibleText('edgecam-server 0.1.0')).toBe('edgecam-server 0.1.0');
  });

  it('keep our own newlines and tabs on the terminal', () => {
    expect(terminalText('one\n\ttwo\x1b]0;title\x07\r')).toBe('one\n\ttwo\\x1b]0;title\\x07\\r');
  });

  it('quote text replies with their control characters written out', () => {
    expect(quoteText(Buffer.from('Unknown\x1b[2J "command"'))).toBe('"Unknown\\x1b[2J \\"command\\""');
  });
});

// What reaches the terminal: ESC (CSI, OSC), BEL, CR, and C1 controls must never be written raw.
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const EVIL = '\x1b[2J\x1b]0;owned\x07\rsaved snapshot.jpg\n';

describe('peer text on the terminal, from real servers', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (closers.length > 0) await closers.pop()!();
  });

  it('shows an ERROR message and code with escapes written out', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames(), errorOnCommand: { code: 'BUSY\x1b[31m', message: `no${EVIL}` } });
    closers.push(() => v2.close());
    const r = await runCli(['--port', String(v2.port), 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('edgecam: the server ended the session: no\\x1b[2J\\x1b]0;owned\\x07\\rsaved snapshot.jpg\\n (BUSY\\x1b[31m)\n');
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
  });

  it('shows WELCOME fields in the shell banner with escapes written out', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames(), welcome: { server: `cam${EVIL}`, version: '1\x9b2J' } });
    closers.push(() => v2.close());
    const r = await runCli(['--port', String(v2.port), 'shell'], { cwd: tempDir(), input: '2\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`connected to 127.0.0.1:${v2.port} (cam\\x1b[2J\\x1b]0;owned\\x07\\rsaved snapshot.jpg\\n 1\\x9b2J, v2 protocol)`);
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
  });

  it('never writes a legacy text reply with escapes raw', async () => {
    const s = await startScriptedServer((sock) => sock.on('data', () => sock.write(`Unknown${EVIL}`)));
    closers.push(() => s.close());
    const r = await runCli(['--port', String(s.port), '--protocol', 'legacy', 'snapshot'], { cwd: tempDir() });
    expect(r.code).toBe(4);
    // Text with controls in it does not pass for text: it is refused as a frame header.
    expect(r.stderr).toMatch(/^edgecam: the server announced a frame of \d+ bytes, over the limit/);
    expect(r.stdout + r.stderr).not.toMatch(RAW_CONTROL);
  });
});
