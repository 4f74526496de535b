import { expect } from 'vitest';
import { ProtocolError, type ProtocolErrorCode } from '../src/index.js';

interface Pushable<T> {
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
