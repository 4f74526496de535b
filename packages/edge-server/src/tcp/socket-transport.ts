// The last stage of a frame's way: ClientSession (client-session.ts) hands it here as
// [header, JPEG] and it goes onto the socket as one corked write, with no copy. The session sends
// nothing more until the write's callback says the socket took it, so a client that reads slowly
// holds one frame in flight, never a queue.
import type { Socket } from 'node:net';
import type { SessionTransport } from './client-session.js';

/** SessionTransport over a TCP (or TLS) socket; it times the frame in flight for the stall sweep. */
export class SocketTransport implements SessionTransport {
  /** When the frame in flight was handed to the socket; null when none is in flight. */
  private writtenAt: number | null = null;
  private lastBytes = 0;

  constructor(private readonly socket: Socket) {}

  writeFrame(parts: readonly Uint8Array[], done: (err?: Error | null) => void): void {
    // One writev for header and JPEG, no copy.
    const socket = this.socket;
    this.writtenAt = performance.now();
    let bytes = 0;
    socket.cork();
    for (let i = 0; i < parts.length - 1; i++) {
      bytes += (parts[i] as Uint8Array).length;
      socket.write(parts[i] as Uint8Array);
    }
    bytes += (parts[parts.length - 1] as Uint8Array).length;
    socket.write(parts[parts.length - 1] as Uint8Array, (err) => {
      this.writtenAt = null;
      done(err);
    });
    socket.uncork();
    this.lastBytes = bytes;
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  /** The size of the last frame written: queued bytes beyond it are the client's control backlog. */
  get lastFrameBytes(): number {
    return this.lastBytes;
  }

  /** How long the frame in flight has waited for the socket to take it; 0 when none waits. */
  stalledSince(now: number): number {
    return this.writtenAt === null ? 0 : now - this.writtenAt;
  }
}
