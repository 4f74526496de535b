import { describe, expect, it } from 'vitest';
import {
  ClientMessageDecoder,
  ServerMessageDecoder,
  encodeCommandMessage,
  encodeErrorMessage,
  encodeFrameMessage,
  encodeHello,
  encodePing,
  encodePong,
  encodeWelcome,
  isFatalErrorCode,
  type ClientMessage,
  type ServerMessage,
} from '../src/index.js';
import { hex } from './fixtures/bytes.js';
import {
  clientErrorFixtures,
  clientMessageFixtures,
  serverErrorFixtures,
  serverMessageFixtures,
  type MessageFixture,
} from './fixtures/v2-messages.js';
import { byteAtATime, decodeChunks, encodeClient, encodeServer, expectProtocolError, type Pushable } from './helpers.js';

/** Four tests per fixture: decode whole, decode byte by byte, encode to the bytes, round trip. */
function messageFixtureSuite<M>(
  side: string,
  fixtures: readonly MessageFixture<M>[],
  newDecoder: () => Pushable<M>,
  encode: (m: M) => Buffer,
): void {
  describe(`v2 ${side} message fixtures`, () => {
    it.each(fixtures)('decodes $name', ({ message, bytes }) => {
      expect(decodeChunks(newDecoder(), [Buffer.from(bytes)])).toEqual([message]);
    });

    it.each(fixtures)('decodes $name fed one byte at a time', ({ message, bytes }) => {
      expect(decodeChunks(newDecoder(), byteAtATime(Buffer.from(bytes)))).toEqual([message]);
    });

    it.each(fixtures)('encodes $name to the fixture bytes', ({ message, bytes }) => {
      expect(hex(encode(message))).toBe(hex(bytes));
    });

    it.each(fixtures)('round-trips $name', ({ message }) => {
      expect(decodeChunks(newDecoder(), [encode(message)])).toEqual([message]);
    });
  });
}

messageFixtureSuite('client', clientMessageFixtures, () => new ClientMessageDecoder(), encodeClient);
messageFixtureSuite('server', serverMessageFixtures, () => new ServerMessageDecoder(), encodeServer);

describe('v2 error fixtures', () => {
  it.each(clientErrorFixtures)('a server refuses $name with $code and emits nothing after it', (f) => {
    const decoder = new ClientMessageDecoder();
    const out: ClientMessage[] = [];
    const err = expectProtocolError(() => decoder.push(Buffer.from(f.bytes), (m) => out.push(m)), f.code);
    expect(err.fatal).toBe(true);
    expect(out).toHaveLength(f.messagesBefore);
    expectProtocolError(() => decoder.push(Buffer.from(f.bytes), (m) => out.push(m)), 'DECODER_FAILED');
    expect(out).toHaveLength(f.messagesBefore);
  });

  it.each(clientErrorFixtures)('a server refuses $name the same way byte by byte', (f) => {
    const decoder = new ClientMessageDecoder();
    const out: ClientMessage[] = [];
    expectProtocolError(() => {
      for (const b of f.bytes) decoder.push(Buffer.from([b]), (m) => out.push(m));
    }, f.code);
    expect(out).toHaveLength(f.messagesBefore);
  });

  it.each(serverErrorFixtures)('a client refuses $name with $code and emits nothing after it', (f) => {
    const decoder = new ServerMessageDecoder({ maxFrameBytes: f.maxFrameBytes });
    const out: ServerMessage[] = [];
    const err = expectProtocolError(() => decoder.push(Buffer.from(f.bytes), (m) => out.push(m)), f.code);
    expect(err.fatal).toBe(true);
    expect(out).toHaveLength(f.messagesBefore);
    expectProtocolError(() => decoder.push(Buffer.from(f.bytes), (m) => out.push(m)), 'DECODER_FAILED');
  });

  it.each(serverErrorFixtures)('a client refuses $name the same way byte by byte', (f) => {
    const decoder = new ServerMessageDecoder({ maxFrameBytes: f.maxFrameBytes });
    const out: ServerMessage[] = [];
    expectProtocolError(() => {
      for (const b of f.bytes) decoder.push(Buffer.from([b]), (m) => out.push(m));
    }, f.code);
    expect(out).toHaveLength(f.messagesBefore);
  });
});

describe('v2 encoders', () => {
  it('return the FRAME header apart from the JPEG, which is not copied', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const [header, payload] = encodeFrameMessage(1, 2, jpeg);
    expect(header).toHaveLength(17);
    expect(payload).toBe(jpeg);
  });

  it('refuse a seq or capture time the FRAME layout cannot carry', () => {
    const jpeg = new Uint8Array(0);
    expectProtocolError(() => encodeFrameMessage(-1, 0, jpeg), 'BAD_PAYLOAD');
    expectProtocolError(() => encodeFrameMessage(2 ** 32, 0, jpeg), 'BAD_PAYLOAD');
    expectProtocolError(() => encodeFrameMessage(1.5, 0, jpeg), 'BAD_PAYLOAD');
    expectProtocolError(() => encodeFrameMessage(0, -1, jpeg), 'BAD_PAYLOAD');
    expectProtocolError(() => encodeFrameMessage(0, 2 ** 53, jpeg), 'BAD_PAYLOAD');
  });

  it('refuse PING and PONG data that is not 8 bytes', () => {
    expectProtocolError(() => encodePing(new Uint8Array(7)), 'BAD_PAYLOAD');
    expectProtocolError(() => encodePong(new Uint8Array(9)), 'BAD_PAYLOAD');
  });

  it('refuse a COMMAND that is not a command', () => {
    expectProtocolError(() => encodeCommandMessage('x' as never), 'BAD_PAYLOAD');
  });

  it('refuse JSON bodies that fail the schema, as a non-fatal error', () => {
    const err = expectProtocolError(() => encodeWelcome({ server: 's' } as never), 'BAD_PAYLOAD');
    expect(err.fatal).toBe(false);
    expect(err.message).toContain('version');
    expectProtocolError(() => encodeErrorMessage({ code: '', message: 'x' }), 'BAD_PAYLOAD');
    expectProtocolError(() => encodeHello({ token: 5 } as never), 'BAD_PAYLOAD');
  });

  it('refuse a HELLO larger than peers accept', () => {
    expectProtocolError(() => encodeHello({ token: 'x'.repeat(5000) }), 'MESSAGE_TOO_LARGE');
  });

  it('drop fields the schema does not know, so peers never see them', () => {
    const bytes = encodeHello({ token: 't', extra: 1 } as never);
    expect(bytes.subarray(5).toString()).toBe('{"token":"t"}');
  });
});

describe('v2 decoders accept newer peers', () => {
  it('drop unknown extra JSON fields', () => {
    const json = Buffer.from('{"server":"s","version":"2","width":1,"height":2,"fps":3,"authRequired":false,"codec":"h264"}');
    const header = Buffer.from([0x81, 0, 0, 0, json.length]);
    const [m] = decodeChunks(new ServerMessageDecoder(), [Buffer.concat([header, json])]);
    expect(m).toEqual({
      type: 'welcome',
      welcome: { server: 's', version: '2', width: 1, height: 2, fps: 3, authRequired: false },
    });
  });
});

describe('WELCOME source and non-fatal ERRORs', () => {
  it('decode a WELCOME without source, as older servers send it', () => {
    const json = Buffer.from('{"server":"s","version":"1","width":1,"height":2,"fps":3,"authRequired":false}');
    const [m] = decodeChunks(new ServerMessageDecoder(), [Buffer.concat([Buffer.from([0x81, 0, 0, 0, json.length]), json])]);
    expect(m).toEqual({ type: 'welcome', welcome: { server: 's', version: '1', width: 1, height: 2, fps: 3, authRequired: false } });
  });

  it('accept a source state they do not know, for newer servers', () => {
    const json = Buffer.from('{"server":"s","version":"9","width":1,"height":2,"fps":3,"authRequired":false,"source":{"state":"dozing"}}');
    const [m] = decodeChunks(new ServerMessageDecoder(), [Buffer.concat([Buffer.from([0x81, 0, 0, 0, json.length]), json])]);
    expect(m).toMatchObject({ welcome: { source: { state: 'dozing' } } });
  });

  it('accept an http scheme they do not know, for newer servers', () => {
    const json = Buffer.from('{"server":"s","version":"9","width":1,"height":2,"fps":3,"authRequired":false,"http":{"port":443,"scheme":"h3","path":"/cam/"}}');
    const [m] = decodeChunks(new ServerMessageDecoder(), [Buffer.concat([Buffer.from([0x81, 0, 0, 0, json.length]), json])]);
    expect(m).toMatchObject({ welcome: { http: { port: 443, scheme: 'h3', path: '/cam/' } } });
  });

  it('call every ERROR code fatal but SOURCE_UNAVAILABLE', () => {
    expect(isFatalErrorCode('SOURCE_UNAVAILABLE')).toBe(false);
    for (const code of ['UNAUTHORIZED', 'TOO_MANY_CLIENTS', 'HELLO_TIMEOUT', 'BAD_PAYLOAD', 'SOMETHING_NEW']) expect(isFatalErrorCode(code)).toBe(true);
  });
});
