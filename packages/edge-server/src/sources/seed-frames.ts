// The seed's camera server's byte stream, `[u32 BE length][JPEG]`…, split by the protocol package's
// FrameDecoder (limits decided from the header alone), with what broke it named when something
// did. The seed answers a command it does not know with the raw text `Unknown command` in the
// middle of its frames; read as a header, `Unkn` is a 1.4 GB length, so the error quotes the text
// instead of the absurd length. After an error the stream cannot be trusted: the caller reconnects.
import { FRAME_HEADER_LENGTH, FrameDecoder, ProtocolError, isWholeJpeg } from '@edgecam/protocol';
import { looksLikeText } from '@edgecam/runtime';
import { EdgeServerError } from '../errors.js';
import { showPeerText } from '../log/peer-text.js';

/** How many bytes of what arrived instead of a frame are quoted. */
const QUOTED_BYTES = 48;

/** The first bytes as hex (`ff d8 00 10 …`). */
function hexHead(bytes: Uint8Array, n = 8): string {
  const head = [...bytes.subarray(0, n)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length > n ? `${head} …` : head;
}

function broken(message: string): EdgeServerError {
  return new EdgeServerError('SOURCE_PROTOCOL', message);
}

/** The seed's frames out of its byte stream. */
export class SeedFrameReader {
  private readonly decoder: FrameDecoder;
  /** Bytes pushed, and bytes of the frames emitted (headers included): the next header starts there. */
  private received = 0;
  private consumed = 0;
  /** The stream's last bytes before the current chunk: a header split across chunks starts in them. */
  private tail: Buffer = Buffer.alloc(0);
  /** Frames of length 0, which the protocol allows and which carry no picture. */
  empty = 0;

  constructor(readonly maxFrameBytes: number) {
    this.decoder = new FrameDecoder({ maxFrameBytes });
  }

  /** Bytes of a frame not yet complete (0 between frames). */
  get bufferedBytes(): number {
    return this.decoder.bufferedBytes;
  }

  /**
   * Calls onJpeg with each whole JPEG (a view of the chunk or an exact-size copy, as FrameDecoder
   * hands it out). Throws EdgeServerError SOURCE_PROTOCOL for text, a length over the limit or a
   * frame that is no JPEG.
   */
  push(chunk: Buffer, onJpeg: (jpeg: Buffer) => void): void {
    const chunkStart = this.received;
    this.received += chunk.length;
    try {
      this.decoder.push(chunk, (jpeg) => {
        this.consumed += FRAME_HEADER_LENGTH + jpeg.length;
        if (jpeg.length === 0) {
          this.empty++;
          return;
        }
        if (!isWholeJpeg(jpeg)) throw this.notJpeg(jpeg);
        onJpeg(jpeg);
      });
    } catch (err) {
      if (err instanceof ProtocolError && err.code === 'FRAME_TOO_LARGE') throw this.tooLarge(chunk, chunkStart);
      throw err;
    } finally {
      this.tail = Buffer.from(Buffer.concat([this.tail, chunk.subarray(-FRAME_HEADER_LENGTH)]).subarray(-FRAME_HEADER_LENGTH));
    }
  }

  private notJpeg(frame: Buffer): EdgeServerError {
    const head = frame.subarray(0, QUOTED_BYTES);
    if (looksLikeText(head)) return broken(`the camera sent text inside a frame: ${showPeerText(head.toString('latin1'))}; it answers a command it does not know with text, so its frames cannot be told apart any more`);
    return broken(`the camera sent a frame that is not a JPEG (${frame.length} bytes: ${hexHead(frame)}); its stream cannot be trusted`);
  }

  /** What stood where the refused header was: text the seed wrote, or a length over the limit. */
  private tooLarge(chunk: Buffer, chunkStart: number): EdgeServerError {
    const at = this.consumed - chunkStart;
    const head = (at >= 0 ? chunk.subarray(at) : Buffer.concat([this.tail.subarray(this.tail.length + at), chunk])).subarray(0, QUOTED_BYTES);
    if (looksLikeText(head)) {
      return broken(`the camera sent text where a frame should be: ${showPeerText(head.toString('latin1'))}; it answers a command it does not know with text (is something else sending it commands?)`);
    }
    return broken(`the camera announced a frame of ${head.readUInt32BE(0)} bytes, over the limit of ${this.maxFrameBytes} bytes; refusing it`);
  }
}
