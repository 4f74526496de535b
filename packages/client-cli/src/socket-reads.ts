// A TCP socket that reads into one buffer of its own (net.connect's `onread`) instead of a new
// 64 KiB buffer per read through the stream machinery: a 720p frame comes in one read instead of
// two or three, and the v2 decoder hands it on as a view of that read (no second copy). Reading
// a stream of frames costs about half the CPU this way (BENCHMARKS.md, "Recording").
//
// Each read is copied out of the reused buffer and emitted as a 'data' event, as a stream socket
// does, so every reader (fromReadable, the handshake, the wrong-port check) works unchanged. A
// read that comes while nobody listens, or while the socket is paused, waits in order for the
// next listener and pauses the socket, as a stream's own buffer would; pause() and resume()
// keep their meaning.
import type { OnReadOpts, Socket } from 'node:net';

/** Bytes one read may bring: several frames of a 1080p camera. */
export const READ_BUFFER_BYTES = 1 << 20;

/** The `onread` option of net.connect for such a socket. */
export function oneBufferReads(bytes = READ_BUFFER_BYTES): OnReadOpts {
  const waiting: Buffer[] = [];
  let watching = false;
  return {
    buffer: Buffer.allocUnsafe(bytes),
    callback(this: Socket, nread: number, buf: Uint8Array): boolean {
      const chunk = Buffer.from(buf.subarray(0, nread));
      if (waiting.length === 0 && !this.isPaused() && this.listenerCount('data') > 0) {
        this.emit('data', chunk);
        return true;
      }
      waiting.push(chunk);
      if (!watching) {
        watching = true;
        // Readable emits 'resume' once resume() (or a first 'data' listener) sets it flowing.
        this.on('resume', () => {
          while (waiting.length > 0 && !this.isPaused() && this.listenerCount('data') > 0) this.emit('data', waiting.shift()!);
        });
      }
      return false; // pauses the socket: what comes next waits in the kernel
    },
  };
}
