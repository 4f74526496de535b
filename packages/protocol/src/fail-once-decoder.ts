import { asBuffer } from './bytes.js';
import { ProtocolError } from './errors.js';

/**
 * The one "fail once, stay failed" rule of the stateful decoders: after a fatal error, or after the
 * callback throws, the stream position is no longer known, so every push throws DECODER_FAILED
 * until reset().
 */
export abstract class FailOnceDecoder<T> {
  private failed = false;

  /** `who` names the decoder in error messages. */
  protected constructor(protected readonly who: string) {}

  /**
   * Decodes `chunk`, calling `on` for each complete item in order. Throws a fatal ProtocolError on
   * bad input; afterwards, and after `on` throws, throws DECODER_FAILED until reset().
   */
  push(chunk: Uint8Array, on: (item: T) => void): void {
    if (this.failed) throw decoderFailed(this.who);
    try {
      this.decode(asBuffer(chunk), on);
    } catch (err) {
      this.failed = true;
      this.dropPartial();
      throw err;
    }
  }

  /** Forgets any partial item and a previous failure; use it to start a new stream. */
  reset(): void {
    this.failed = false;
    this.forget();
  }

  protected abstract decode(buf: Buffer, on: (item: T) => void): void;

  /** Releases the buffer of a partial item, so a failed decoder holds no large allocation. */
  protected abstract dropPartial(): void;

  /** Clears all state between items (called by reset()). */
  protected abstract forget(): void;
}

function decoderFailed(what: string): ProtocolError {
  return new ProtocolError(
    'DECODER_FAILED',
    `${what} has already failed on a fatal error; call reset() before pushing more bytes`,
  );
}
