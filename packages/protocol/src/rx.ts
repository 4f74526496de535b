/**
 * Thin RxJS operators over the decoders, for services that consume the protocol as streams.
 * Each subscription gets its own decoder. A ProtocolError becomes the stream's error; a source
 * that completes in the middle of a frame or message errors with TRUNCATED, so a cut connection
 * is never mistaken for a clean end.
 */
import { Observable, map, type OperatorFunction } from 'rxjs';
import { CommandDecoder, type CommandEvent } from './command-decoder.js';
import { FrameDecoder, type FrameDecoderOptions } from './frame-decoder.js';
import { encodeFrame } from './frame-encoder.js';
import { ClientMessageDecoder, ServerMessageDecoder, type MessageDecoderOptions } from './message-decoder.js';
import type { ClientMessage, ServerMessage } from './messages.js';
import { ProtocolError } from './errors.js';

interface Decoder<T> {
  push(chunk: Uint8Array, on: (item: T) => void): void;
  readonly bufferedBytes: number;
}

function decodeWith<T>(what: string, create: () => Decoder<T>): OperatorFunction<Uint8Array, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const decoder = create();
      const emit = (item: T): void => subscriber.next(item);
      return source.subscribe({
        next(chunk) {
          try {
            decoder.push(chunk, emit);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error(err) {
          subscriber.error(err);
        },
        complete() {
          if (decoder.bufferedBytes > 0) {
            subscriber.error(
              new ProtocolError('TRUNCATED', `the stream ended ${decoder.bufferedBytes} bytes into a ${what}`),
            );
          } else {
            subscriber.complete();
          }
        },
      });
    });
}

/** v1 bytes (server to client) to JPEG buffers. */
export function decodeFrames(opts?: FrameDecoderOptions): OperatorFunction<Uint8Array, Buffer> {
  return decodeWith('frame', () => new FrameDecoder(opts));
}

/** v1 bytes (client to server) to command events; unknown bytes are events, never errors. */
export function decodeCommands(): OperatorFunction<Uint8Array, CommandEvent> {
  return decodeWith('command', () => new CommandDecoder());
}

/** JPEGs to `[header, jpeg]` pairs for a corked write or writev; the JPEG is not copied. */
export function encodeFrames(): OperatorFunction<Uint8Array, Uint8Array[]> {
  return map((jpeg) => encodeFrame(jpeg));
}

/** v2 bytes from a server (after nothing: servers send no magic) to messages. */
export function decodeServerMessages(opts?: MessageDecoderOptions): OperatorFunction<Uint8Array, ServerMessage> {
  return decodeWith('message', () => new ServerMessageDecoder(opts));
}

/** v2 bytes from a client, after its ECAM\x02 magic, to messages. */
export function decodeClientMessages(opts?: { maxControlBytes?: number }): OperatorFunction<Uint8Array, ClientMessage> {
  return decodeWith('message', () => new ClientMessageDecoder(opts));
}
