// The seed's client design over a real socket: blocking-style reads of at most 1024 bytes
// (`conn.recv(1024)`), each image grown by concatenation. Node has no blocking recv, so recv()
// is a promise; the socket reads the kernel in 1024-byte pieces too (net's `onread` with a
// 1024-byte buffer), as the seed's recv(1024) does, instead of Node's usual 64 KiB.
import { connect, type Socket } from 'node:net';
import { RECV_SIZE } from './frame-reader.js';

// Received pieces held before the socket stops reading (the kernel buffer then pushes back on
// the server, as it does for the seed's client when it stops calling recv).
const MAX_QUEUED_BYTES = 64 * 1024;

export class NaiveSeedClient {
  private readonly socket: Socket;
  private readonly pieces: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private paused = false;
  private waiter: (() => void) | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('end', () => this.wake(true));
    socket.on('close', () => this.wake(true));
    socket.on('error', () => this.wake(true));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<NaiveSeedClient> {
    return new Promise((resolve, reject) => {
      let client: NaiveSeedClient | null = null;
      const socket = connect({
        port,
        host,
        onread: {
          buffer: Buffer.alloc(RECV_SIZE),
          // The buffer is reused for the next read, so the piece is copied out (as recv returns new bytes).
          callback: (n: number, buf: Uint8Array) => (client ? client.onRead(Buffer.from(buf.subarray(0, n))) : true),
        },
      });
      client = new NaiveSeedClient(socket);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(client as NaiveSeedClient);
      });
      socket.once('error', reject);
    });
  }

  /** `s.sendall(command.encode())`. */
  send(command: string): void {
    this.socket.write(command);
  }

  /** At most `max` bytes, waiting for at least one; an empty buffer once the server closed. */
  async recv(max: number): Promise<Buffer> {
    while (this.pieces.length === 0) {
      if (this.ended) return Buffer.alloc(0);
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    const first = this.pieces[0] as Buffer;
    let part: Buffer;
    if (first.length <= max) {
      part = first;
      this.pieces.shift();
    } else {
      part = first.subarray(0, max);
      this.pieces[0] = first.subarray(max);
    }
    this.queued -= part.length;
    if (this.paused && this.queued < MAX_QUEUED_BYTES / 2) {
      this.paused = false;
      this.socket.resume();
    }
    return part;
  }

  /** The seed's receive_image: the length, then 1024-byte reads concatenated. Null at the end. */
  async receiveImage(): Promise<Buffer | null> {
    let head = Buffer.alloc(0);
    while (head.length < 4) {
      const part = await this.recv(4 - head.length);
      if (part.length === 0) return null;
      head = Buffer.concat([head, part]);
    }
    const length = head.readUInt32BE(0);
    let data = Buffer.alloc(0);
    while (data.length < length) {
      const packet = await this.recv(Math.min(RECV_SIZE, length - data.length));
      if (packet.length === 0) return null;
      data = Buffer.concat([data, packet]);
    }
    return data;
  }

  close(): void {
    this.socket.destroy();
  }

  private onRead(piece: Buffer): boolean {
    this.pieces.push(piece);
    this.queued += piece.length;
    this.wake(false);
    if (this.queued >= MAX_QUEUED_BYTES) {
      this.paused = true;
      return false; // pauses the socket
    }
    return true;
  }

  private wake(ended: boolean): void {
    if (ended) this.ended = true;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}
