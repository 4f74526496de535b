import { expect } from 'vitest';
import {
  ProtocolError,
  encodeCommandMessage,
  encodeErrorMessage,
  encodeFrameMessage,
  encodeHello,
  encodePing,
  encodePong,
  encodeEventMessage,
  encodeWelcome,
  type ClientMessage,
  type ProtocolErrorCode,
  type ServerMessage,
} from '../src/index.js';

/** What every decoder offers: push a chunk, get each decoded item. */
export interface Pushable<T> {
  push(chunk: Uint8Array, on: (item: T) => void): void;
}

/** Pushes each chunk in order and returns everything emitted. */
export function decodeChunks<T>(decoder: Pushable<T>, chunks: readonly Uint8Array[]): T[] {
  const out: T[] = [];
  for (const chunk of chunks) decoder.push(chunk, (item) => out.push(item));
  return out;
}

/** Cuts `bytes` at the given offsets (sorted, in range) into chunks. */
export function cut(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  for (const o of offsets) {
    chunks.push(bytes.subarray(start, o));
    start = o;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/** Each byte as its own chunk (each a fresh Buffer, as a socket would deliver). */
export function byteAtATime(bytes: Uint8Array): Buffer[] {
  return Array.from(bytes, (b) => Buffer.from([b]));
}

/** Runs `fn`, which must throw a ProtocolError with `code`; returns the error. */
export function expectProtocolError(fn: () => unknown, code: ProtocolErrorCode): ProtocolError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ProtocolError);
  expect((thrown as ProtocolError).code).toBe(code);
  return thrown as ProtocolError;
}

/** The wire bytes of a decoded client message: the encoder that the decoder inverts. */
export function encodeClient(m: ClientMessage): Buffer {
  switch (m.type) {
    case 'hello':
      return encodeHello(m.hello);
    case 'command':
      return encodeCommandMessage(m.command);
    case 'ping':
      return encodePing(m.data);
  }
}

/** The wire bytes of a decoded server message (a FRAME's header and JPEG joined). */
export function encodeServer(m: ServerMessage): Buffer {
  switch (m.type) {
    case 'welcome':
      return encodeWelcome(m.welcome);
    case 'frame':
      return Buffer.concat(encodeFrameMessage(m.seq, m.captureTimeUs, m.jpeg));
    case 'error':
      return encodeErrorMessage(m.error);
    case 'pong':
      return encodePong(m.data);
    case 'event':
      return encodeEventMessage(m.event);
  }
}
