// Minimal test clients speaking legacy and v2 over real loopback sockets, built on the
// protocol package's decoders.
import { connect, type Socket } from 'node:net';
import {
  FrameDecoder,
  ServerMessageDecoder,
  V2_MAGIC,
  encodeCommandMessage,
  encodeHello,
  encodePing,
  type CommandChar,
  type ServerMessage,
} from '@edgecam/protocol';
import { waitUntil } from './wait.js';

/**
 * Connects to 127.0.0.1:`port`. Errors after connecting are left to the caller's own listeners
 * (resets are part of many tests). `sockets`, when given, holds the socket until it closes, so a
 * test can destroy whatever is left.
 */
export function openSocket(port: number, sockets?: Set<Socket>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    if (sockets) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    s.on('error', () => {});
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

abstract class TestClient {
  readonly socket: Socket;
  bytesReceived = 0;
  ended = false;
  error: Error | null = null;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      try {
        this.onChunk(chunk);
      } catch (err) {
        this.error = err as Error;
      }
    });
    socket.on('error', (err) => (this.error = err));
    socket.on('close', () => (this.ended = true));
  }

  protected abstract onChunk(chunk: Buffer): void;

  write(bytes: string | Uint8Array): void {
    this.socket.write(bytes);
  }

  waitClosed(timeoutMs = 10_000): Promise<void> {
    return waitUntil(() => this.ended, timeoutMs, 'the server to close the connection');
  }

  close(): void {
    this.socket.destroy();
  }
}

export class LegacyClient extends TestClient {
  readonly frames: Buffer[] = [];
  private readonly decoder = new FrameDecoder();

  static async connect(port: number): Promise<LegacyClient> {
    return new LegacyClient(await openSocket(port));
  }

  protected onChunk(chunk: Buffer): void {
    this.decoder.push(chunk, (jpeg) => this.frames.push(Buffer.from(jpeg)));
  }

  /** Bytes of an incomplete frame still in the decoder. */
  get partialBytes(): number {
    return this.decoder.bufferedBytes;
  }

  async waitForFrames(n: number, timeoutMs = 10_000): Promise<Buffer[]> {
    await waitUntil(() => this.frames.length >= n || this.error !== null, timeoutMs, () => `${n} frames (have ${this.frames.length})`);
    if (this.error) throw this.error;
    return this.frames.slice(0, n);
  }
}

export class V2Client extends TestClient {
  readonly messages: ServerMessage[] = [];
  private readonly decoder = new ServerMessageDecoder();

  /** Connects and sends the magic and, unless hello is false, a HELLO. */
  static async connect(port: number, opts: { hello?: boolean; client?: string } = {}): Promise<V2Client> {
    const c = new V2Client(await openSocket(port));
    c.write(V2_MAGIC);
    if (opts.hello ?? true) c.write(encodeHello({ client: opts.client ?? 'vitest' }));
    return c;
  }

  protected onChunk(chunk: Buffer): void {
    this.decoder.push(chunk, (m) => this.messages.push(m.type === 'frame' ? { ...m, jpeg: Buffer.from(m.jpeg) } : m));
  }

  command(c: CommandChar): void {
    this.write(encodeCommandMessage(c));
  }

  ping(data: Uint8Array): void {
    this.write(encodePing(data));
  }

  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }

  async waitFor<T extends ServerMessage['type']>(type: T, n = 1, timeoutMs = 10_000): Promise<Extract<ServerMessage, { type: T }>[]> {
    await waitUntil(() => this.of(type).length >= n || this.error !== null, timeoutMs, () => `${n} ${type} messages (have ${this.of(type).length})`);
    if (this.error) throw this.error;
    return this.of(type);
  }
}

/** A streaming client that counts whole frames and keeps none, so a soak's memory stays flat. */
export class CountingClient {
  frames = 0;
  closed = false;
  decodeError: Error | null = null;

  private constructor(readonly socket: Socket, readonly protocol: 'legacy' | 'v2') {
    const legacy = new FrameDecoder();
    const v2 = new ServerMessageDecoder();
    socket.on('data', (chunk: Buffer) => {
      try {
        if (protocol === 'legacy') legacy.push(chunk, () => this.frames++);
        else v2.push(chunk, (m) => m.type === 'frame' && this.frames++);
      } catch (err) {
        this.decodeError = err as Error;
      }
    });
    socket.on('close', () => (this.closed = true));
  }

  /** Connects and asks for the stream ('3', or the magic, a HELLO and COMMAND '3'). */
  static async start(port: number, protocol: 'legacy' | 'v2', sockets?: Set<Socket>): Promise<CountingClient> {
    const socket = await openSocket(port, sockets);
    const c = new CountingClient(socket, protocol);
    if (protocol === 'legacy') socket.write('3');
    else socket.write(Buffer.concat([V2_MAGIC, encodeHello({ client: 'soak' }), encodeCommandMessage('3')]));
    return c;
  }
}
