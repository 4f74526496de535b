import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ClientMessageDecoder,
  ProtocolError,
  ServerMessageDecoder,
  encodeFrameMessage,
  encodeHello,
  type ClientMessage,
  type ServerMessage,
} from '../src/index.js';
import { counting, joined } from './fixtures/bytes.js';
import { byteAtATime, cut, decodeChunks, encodeClient, encodeServer, expectProtocolError } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const WELCOME = { server: 'edgecam-server', version: '0.1.0', width: 64, height: 48, fps: 30, authRequired: false };
const SERVER_MESSAGES: ServerMessage[] = [
  { type: 'welcome', welcome: WELCOME },
  { type: 'frame', seq: 1, captureTimeUs: 1_700_000_000_000_001, jpeg: Buffer.from(counting(20)) },
  { type: 'pong', data: Buffer.from(counting(8)) },
  { type: 'frame', seq: 2, captureTimeUs: 1_700_000_000_033_334, jpeg: Buffer.alloc(0) },
  { type: 'error', error: { code: 'NOT_STREAMING', message: 'q without 3' } },
  { type: 'frame', seq: 3, captureTimeUs: 1_700_000_000_066_667, jpeg: Buffer.from(counting(7)) },
];
const SERVER_STREAM = Buffer.concat(SERVER_MESSAGES.map(encodeServer));
const CLIENT_MESSAGES: ClientMessage[] = [
  { type: 'hello', hello: { token: 'secret', client: 'test' } },
  { type: 'command', command: '3' },
  { type: 'ping', data: Buffer.from(counting(8)) },
  { type: 'command', command: 'q' },
  { type: 'command', command: '2' },
];
const CLIENT_STREAM = Buffer.concat(CLIENT_MESSAGES.map(encodeClient));

describe('ServerMessageDecoder chunking', () => {
  it('returns the same messages for a stream cut at every pair of offsets', () => {
    for (let i = 0; i <= SERVER_STREAM.length; i += 1) {
      for (let j = i; j <= SERVER_STREAM.length; j += 3) {
        const decoder = new ServerMessageDecoder();
        expect(decodeChunks(decoder, cut(SERVER_STREAM, [i, j])), `cut at ${i} and ${j}`).toEqual(SERVER_MESSAGES);
        expect(decoder.bufferedBytes).toBe(0);
      }
    }
  });

  it('returns the messages fed one byte at a time', () => {
    expect(decodeChunks(new ServerMessageDecoder(), byteAtATime(SERVER_STREAM))).toEqual(SERVER_MESSAGES);
  });

  it('returns many messages from one chunk', () => {
    const many = Buffer.concat(Array.from({ length: 200 }, () => SERVER_STREAM));
    const out = decodeChunks(new ServerMessageDecoder(), [many]);
    expect(out).toHaveLength(200 * SERVER_MESSAGES.length);
    expect(out.slice(-SERVER_MESSAGES.length)).toEqual(SERVER_MESSAGES);
  });
});

describe('ClientMessageDecoder chunking', () => {
  it('returns the same messages for a stream cut at every single offset', () => {
    for (let i = 0; i <= CLIENT_STREAM.length; i++) {
      expect(decodeChunks(new ClientMessageDecoder(), cut(CLIENT_STREAM, [i])), `cut at ${i}`).toEqual(CLIENT_MESSAGES);
    }
  });

  it('returns the messages fed one byte at a time', () => {
    expect(decodeChunks(new ClientMessageDecoder(), byteAtATime(CLIENT_STREAM))).toEqual(CLIENT_MESSAGES);
  });
});

describe('v2 ownership', () => {
  it('returns a FRAME JPEG inside one chunk as a view of it', () => {
    const chunk = joined(encodeFrameMessage(9, 10, Buffer.from(counting(30))));
    const [m] = decodeChunks(new ServerMessageDecoder(), [chunk]);
    if (m?.type !== 'frame') throw new Error('expected a frame');
    expect(m.jpeg.buffer).toBe(chunk.buffer);
    expect(m.jpeg.byteOffset).toBe(chunk.byteOffset + 17);
  });

  it('copies a FRAME JPEG spread over chunks into a buffer of exactly its size', () => {
    const jpeg = Buffer.from(counting(30));
    const chunks = cut(joined(encodeFrameMessage(9, 10, jpeg)), [10, 20, 40]);
    const [m] = decodeChunks(new ServerMessageDecoder(), chunks);
    if (m?.type !== 'frame') throw new Error('expected a frame');
    expect(m.jpeg.buffer.byteLength).toBe(30);
    expect(m.jpeg.byteOffset).toBe(0);
    for (const c of chunks) c.fill(0);
    expect(m.jpeg.equals(jpeg)).toBe(true);
    expect(m.seq).toBe(9);
    expect(m.captureTimeUs).toBe(10);
  });
});

describe('v2 limits', () => {
  it('refuses a FRAME claiming 4 GB from its header without allocating', () => {
    const decoder = new ServerMessageDecoder();
    const spies = [vi.spyOn(Buffer, 'allocUnsafeSlow'), vi.spyOn(Buffer, 'allocUnsafe'), vi.spyOn(Buffer, 'alloc')];
    expectProtocolError(() => decoder.push(Buffer.from([0x82, 0xff, 0xff, 0xff, 0xff]), () => {}), 'FRAME_TOO_LARGE');
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
  });

  it('applies maxControlBytes to JSON messages and accepts one exactly at the limit', () => {
    const hello = encodeHello({ client: 'x'.repeat(100) });
    const payload = hello.length - 5;
    expect(decodeChunks(new ClientMessageDecoder({ maxControlBytes: payload }), [hello])).toHaveLength(1);
    expectProtocolError(
      () => new ClientMessageDecoder({ maxControlBytes: payload - 1 }).push(hello.subarray(0, 5), () => {}),
      'MESSAGE_TOO_LARGE',
    );
  });

  it('refuses an unknown type at its first byte, before the length arrives', () => {
    expectProtocolError(() => new ClientMessageDecoder().push(Buffer.from([0x45]), () => {}), 'UNKNOWN_MESSAGE_TYPE');
  });

  it('accepts a FRAME JPEG of exactly maxFrameBytes', () => {
    const jpeg = Buffer.from(counting(50));
    const out = decodeChunks(new ServerMessageDecoder({ maxFrameBytes: 50 }), byteAtATime(joined(encodeFrameMessage(0, 0, jpeg))));
    expect(out).toEqual([{ type: 'frame', seq: 0, captureTimeUs: 0, jpeg }]);
  });

  it('counts buffered bytes, header included, and never more than header plus limit', () => {
    const decoder = new ServerMessageDecoder({ maxFrameBytes: 40 });
    const bytes = joined(encodeFrameMessage(0, 0, Buffer.from(counting(40))));
    let max = 0;
    for (const chunk of byteAtATime(bytes)) {
      decoder.push(chunk, () => {});
      max = Math.max(max, decoder.bufferedBytes);
    }
    expect(max).toBe(17 + 39);
    expect(decoder.bufferedBytes).toBe(0);
  });
});

describe('v2 failure', () => {
  it('throws DECODER_FAILED after a fatal error, and decodes again after reset', () => {
    const decoder = new ServerMessageDecoder();
    expectProtocolError(() => decoder.push(Buffer.from('Unknown command'), () => {}), 'UNKNOWN_MESSAGE_TYPE');
    expectProtocolError(() => decoder.push(SERVER_STREAM, () => {}), 'DECODER_FAILED');
    decoder.reset();
    expect(decodeChunks(decoder, [SERVER_STREAM])).toEqual(SERVER_MESSAGES);
  });

  it('fails when the message callback throws, naming the decoder, until reset', () => {
    const decoder = new ClientMessageDecoder();
    const boom = new Error('consumer failed');
    expect(() => decoder.push(CLIENT_STREAM, () => {
      throw boom;
    })).toThrow(boom);
    const failed = expectProtocolError(() => decoder.push(CLIENT_STREAM, () => {}), 'DECODER_FAILED');
    expect(failed).toBeInstanceOf(ProtocolError);
    expect(failed.message).toContain('ClientMessageDecoder');
    decoder.reset();
    expect(decodeChunks(decoder, [CLIENT_STREAM])).toEqual(CLIENT_MESSAGES);
  });

  it('forgets a partial message on reset', () => {
    const decoder = new ClientMessageDecoder();
    decoder.push(CLIENT_STREAM.subarray(0, 9), () => {});
    expect(decoder.bufferedBytes).toBe(9);
    decoder.reset();
    expect(decoder.bufferedBytes).toBe(0);
    expect(decodeChunks(decoder, [CLIENT_STREAM])).toEqual(CLIENT_MESSAGES);
  });

  it('carries the parser’s reason in a BAD_PAYLOAD message', () => {
    const json = Buffer.from('{"token":1}');
    const err = expectProtocolError(
      () => new ClientMessageDecoder().push(Buffer.concat([Buffer.from([0x01, 0, 0, 0, json.length]), json]), () => {}),
      'BAD_PAYLOAD',
    );
    expect(err.message).toContain('HELLO');
    expect(err.message).toContain('token');
  });
});
