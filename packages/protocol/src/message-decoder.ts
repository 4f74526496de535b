import {
  DEFAULT_MAX_CONTROL_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_META_LENGTH,
  MESSAGE_HEADER_LENGTH,
  MessageType,
  PING_DATA_LENGTH,
  type CommandChar,
} from './constants.js';
import { readU32 } from './bytes.js';
import { limitOption } from './limit-option.js';
import { isCommandChar } from './command-encoder.js';
import { ProtocolError } from './errors.js';
import { FailOnceDecoder } from './fail-once-decoder.js';
import {
  describeIssues,
  errorBodySchema,
  eventBodySchema,
  helloSchema,
  welcomeSchema,
  type ClientMessage,
  type ServerMessage,
} from './messages.js';
import type { z } from 'zod';

/** How a message type's payload is framed and limited. */
type Spec<M> =
  | { name: string; kind: 'json'; decode: (payload: Buffer) => M }
  | { name: string; kind: 'fixed'; size: number; decode: (payload: Buffer) => M }
  | { name: string; kind: 'frame' };

const FRAME_HEAD_LENGTH = MESSAGE_HEADER_LENGTH + FRAME_META_LENGTH;
// Largest capture time whose u64 still fits a JS number exactly: the high u32 half may use 21 bits.
const MAX_SAFE_HIGH_HALF = 0x1f_ffff;

function badPayload(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError('BAD_PAYLOAD', message, { cause });
}

// fatal: true makes invalid UTF-8 an error instead of U+FFFD silently entering a token or a code.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson<T>(name: string, schema: z.ZodType<T>, payload: Buffer): T {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(payload));
  } catch (err) {
    throw badPayload(`${name} payload is not UTF-8 JSON (${(err as Error).message})`, err);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw badPayload(`${name} payload does not match its schema: ${describeIssues(parsed.error)}`, parsed.error);
  }
  return parsed.data;
}

const CLIENT_SPECS = new Map<number, Spec<ClientMessage>>([
  [MessageType.HELLO, { name: 'HELLO', kind: 'json', decode: (p) => ({ type: 'hello', hello: parseJson('HELLO', helloSchema, p) }) }],
  [
    MessageType.COMMAND,
    {
      name: 'COMMAND',
      kind: 'fixed',
      size: 1,
      decode: (p) => {
        const c = String.fromCharCode(p[0]!);
        if (!isCommandChar(c)) throw badPayload(`COMMAND byte 0x${p[0]!.toString(16).padStart(2, '0')} is not a command`);
        return { type: 'command', command: c as CommandChar };
      },
    },
  ],
  [MessageType.PING, { name: 'PING', kind: 'fixed', size: PING_DATA_LENGTH, decode: (p) => ({ type: 'ping', data: p }) }],
]);

const SERVER_SPECS = new Map<number, Spec<ServerMessage>>([
  [MessageType.WELCOME, { name: 'WELCOME', kind: 'json', decode: (p) => ({ type: 'welcome', welcome: parseJson('WELCOME', welcomeSchema, p) }) }],
  [MessageType.FRAME, { name: 'FRAME', kind: 'frame' }],
  [MessageType.ERROR, { name: 'ERROR', kind: 'json', decode: (p) => ({ type: 'error', error: parseJson('ERROR', errorBodySchema, p) }) }],
  [MessageType.PONG, { name: 'PONG', kind: 'fixed', size: PING_DATA_LENGTH, decode: (p) => ({ type: 'pong', data: p }) }],
  [MessageType.EVENT, { name: 'EVENT', kind: 'json', decode: (p) => ({ type: 'event', event: parseJson('EVENT', eventBodySchema, p) }) }],
]);

export interface MessageDecoderOptions {
  /** Largest JPEG in a FRAME (the payload may be 12 bytes more, for seq and capture time). */
  maxFrameBytes?: number;
  /** Largest JSON payload of HELLO, WELCOME, ERROR and EVENT. */
  maxControlBytes?: number;
}

/**
 * Incremental v2 decoder of `[u8 type][u32be length][payload]` messages (after the magic).
 *
 * Limits are decided from the 5-byte header alone (the type from its first byte), before any
 * payload is buffered. A payload that lies inside one chunk is decoded from a view of it; one
 * spread over chunks is copied once into a buffer of exactly its size. For FRAME the 12 bytes of
 * seq and capture time are gathered with the header, so a spanning JPEG gets its own exact buffer.
 * Every error push() throws is fatal.
 */
class MessageDecoder<M> extends FailOnceDecoder<M> {
  private readonly maxFrameBytes: number;
  private readonly maxControlBytes: number;

  // Header bytes split across chunks: 5, or 17 for FRAME.
  private readonly head = Buffer.alloc(FRAME_HEAD_LENGTH);
  private headFilled = 0;
  // The message whose payload is being received.
  private spec: Spec<M> | null = null;
  private length = 0;
  private headLength = 0;
  private seq = 0;
  private captureTimeUs = 0;
  // A payload spread over chunks, exact-size.
  private body: Buffer | null = null;
  private bodyFilled = 0;

  constructor(
    who: string,
    private readonly specs: ReadonlyMap<number, Spec<M>>,
    opts: MessageDecoderOptions,
  ) {
    super(who);
    this.maxFrameBytes = limitOption('maxFrameBytes', opts.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
    this.maxControlBytes = limitOption('maxControlBytes', opts.maxControlBytes, DEFAULT_MAX_CONTROL_BYTES);
  }

  /** Bytes of the incomplete message received so far, header included (0 between messages). */
  get bufferedBytes(): number {
    return this.body !== null ? this.headLength + this.bodyFilled : this.headFilled;
  }

  protected forget(): void {
    this.headFilled = 0;
    this.spec = null;
    this.body = null;
    this.bodyFilled = 0;
  }

  protected dropPartial(): void {
    this.body = null;
  }

  protected decode(buf: Buffer, on: (m: M) => void): void {
    const len = buf.length;
    let off = 0;
    while (off < len) {
      if (this.body !== null) {
        const body = this.body;
        const n = Math.min(body.length - this.bodyFilled, len - off);
        // TypedArray#set: cheaper per chunk than Buffer#copy on Node 20 (see frame-decoder.ts).
        body.set(off === 0 && n === len ? buf : buf.subarray(off, off + n), this.bodyFilled);
        this.bodyFilled += n;
        off += n;
        if (this.bodyFilled < body.length) return;
        this.body = null;
        this.bodyFilled = 0;
        this.deliver(body, on);
        continue;
      }

      if (this.headFilled === 0 && len - off >= MESSAGE_HEADER_LENGTH) {
        // Fast path: the whole header is in this chunk.
        const spec = this.specFor(buf[off]!);
        const length = this.checkLength(spec, readU32(buf, off + 1));
        if (spec.kind !== 'frame') {
          this.begin(spec, length, MESSAGE_HEADER_LENGTH);
          off = this.startBody(length, buf, off + MESSAGE_HEADER_LENGTH, on);
          continue;
        }
        if (len - off >= FRAME_HEAD_LENGTH) {
          this.begin(spec, length, FRAME_HEAD_LENGTH);
          this.readFrameMeta(buf, off + MESSAGE_HEADER_LENGTH);
          off = this.startBody(length - FRAME_META_LENGTH, buf, off + FRAME_HEAD_LENGTH, on);
          continue;
        }
        // A FRAME header cut by the chunk's end: gather it below.
      }

      // Slow path: gather header bytes across chunks.
      if (this.headFilled === 0) this.specFor(buf[off]!); // refuse a bad type at its first byte
      const need = this.headFilled < MESSAGE_HEADER_LENGTH ? MESSAGE_HEADER_LENGTH : FRAME_HEAD_LENGTH;
      const n = Math.min(need - this.headFilled, len - off);
      buf.copy(this.head, this.headFilled, off, off + n);
      this.headFilled += n;
      off += n;
      if (this.headFilled < need) return;
      if (need === MESSAGE_HEADER_LENGTH) {
        const spec = this.specFor(this.head[0]!);
        const length = this.checkLength(spec, readU32(this.head, 1));
        this.length = length;
        if (spec.kind === 'frame') continue; // 12 more header bytes to gather
        this.headFilled = 0;
        this.begin(spec, length, MESSAGE_HEADER_LENGTH);
        off = this.startBody(length, buf, off, on);
      } else {
        const spec = this.specFor(this.head[0]!);
        this.headFilled = 0;
        this.begin(spec, this.length, FRAME_HEAD_LENGTH);
        this.readFrameMeta(this.head, MESSAGE_HEADER_LENGTH);
        off = this.startBody(this.length - FRAME_META_LENGTH, buf, off, on);
      }
    }
  }

  private begin(spec: Spec<M>, length: number, headLength: number): void {
    this.spec = spec;
    this.length = length;
    this.headLength = headLength;
  }

  private readFrameMeta(b: Buffer, o: number): void {
    this.seq = readU32(b, o);
    const high = readU32(b, o + 4);
    if (high > MAX_SAFE_HIGH_HALF) {
      throw badPayload('FRAME capture time does not fit a safe integer of microseconds');
    }
    this.captureTimeUs = high * 0x1_0000_0000 + readU32(b, o + 8);
  }

  /** Delivers the payload as a view when the chunk holds it, else starts an exact-size copy. */
  private startBody(payloadLength: number, buf: Buffer, off: number, on: (m: M) => void): number {
    const available = buf.length - off;
    if (available >= payloadLength) {
      this.deliver(buf.subarray(off, off + payloadLength), on);
      return off + payloadLength;
    }
    // allocUnsafeSlow: never a slice of Node's shared pool, so the payload's memory is its own.
    const body = Buffer.allocUnsafeSlow(payloadLength);
    buf.copy(body, 0, off);
    this.body = body;
    this.bodyFilled = available;
    return buf.length;
  }

  private deliver(payload: Buffer, on: (m: M) => void): void {
    const spec = this.spec!;
    this.spec = null;
    if (spec.kind === 'frame') {
      // Only the server direction has a frame spec, so M is ServerMessage here.
      on({ type: 'frame', seq: this.seq, captureTimeUs: this.captureTimeUs, jpeg: payload } as M);
    } else {
      on(spec.decode(payload));
    }
  }

  private specFor(type: number): Spec<M> {
    const spec = this.specs.get(type);
    if (spec === undefined) {
      throw new ProtocolError(
        'UNKNOWN_MESSAGE_TYPE',
        `message type 0x${type.toString(16).padStart(2, '0')} is not one a ${this.who} accepts`,
      );
    }
    return spec;
  }

  private checkLength(spec: Spec<M>, length: number): number {
    switch (spec.kind) {
      case 'json':
        if (length > this.maxControlBytes) {
          throw new ProtocolError(
            'MESSAGE_TOO_LARGE',
            `${spec.name} claims ${length} bytes, over the limit of ${this.maxControlBytes} (maxControlBytes)`,
          );
        }
        break;
      case 'fixed':
        if (length !== spec.size) {
          throw badPayload(`${spec.name} payload must be exactly ${spec.size} bytes, header says ${length}`);
        }
        break;
      case 'frame':
        if (length < FRAME_META_LENGTH) {
          throw badPayload(`FRAME payload must be at least ${FRAME_META_LENGTH} bytes (seq and time), header says ${length}`);
        }
        if (length - FRAME_META_LENGTH > this.maxFrameBytes) {
          throw new ProtocolError(
            'FRAME_TOO_LARGE',
            `FRAME claims a ${length - FRAME_META_LENGTH}-byte JPEG, over the limit of ${this.maxFrameBytes} (maxFrameBytes)`,
          );
        }
        break;
    }
    return length;
  }
}

/** Used by servers: decodes what v2 clients send after the magic (HELLO, COMMAND, PING). */
export class ClientMessageDecoder extends MessageDecoder<ClientMessage> {
  constructor(opts: { maxControlBytes?: number } = {}) {
    super('ClientMessageDecoder', CLIENT_SPECS, { maxControlBytes: opts.maxControlBytes, maxFrameBytes: 0 });
  }
}

/** Used by clients: decodes what v2 servers send (WELCOME, FRAME, ERROR, PONG, EVENT). */
export class ServerMessageDecoder extends MessageDecoder<ServerMessage> {
  constructor(opts: MessageDecoderOptions = {}) {
    super('ServerMessageDecoder', SERVER_SPECS, opts);
  }
}
