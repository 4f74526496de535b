// The TCP side's shared vocabulary: what the listener, a connection and each protocol's side of
// it pass one another. Types only, so any of them can import it without importing each other.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import type { ErrorBody, ProtocolError, Welcome } from '@edgecam/protocol';
import type { AccessControl } from '../access/access-control.js';
import type { CameraEvent, ClientProtocol, ClientRegistry, FrameHub } from '../contracts.js';
import type { ClientSession, FrameEncoder } from './client-session.js';
import type { ControlBudget } from './control-budget.js';
import type { SocketTransport } from './socket-transport.js';
import type { TcpLimits } from './tcp-limits.js';

/** A camera as a TCP port serves it. */
export interface ServedCamera {
  readonly name: string;
  readonly hub: FrameHub;
  /** Why the source is lost, or null: current value on subscribe, then changes (SharedFrameHub.sourceLoss$). */
  readonly sourceLoss$?: Observable<string | null>;
}

/** The cameras one TCP port serves. */
export interface CameraChoice {
  /** The camera a client asks for; undefined (legacy, or a HELLO naming none): the port's default. */
  pick(name: string | undefined): ServedCamera | undefined;
  /** Every camera this port serves, the default first. */
  names(): string[];
}

/** Options of TcpConnection. */
export interface ConnectionOptions {
  socket: Socket;
  /** The cameras this port serves. */
  cameras: CameraChoice;
  registry: ClientRegistry;
  logger: Logger;
  /** v2 clients that send no HELLO within this time get HELLO_TIMEOUT and are closed. */
  helloTimeoutMs: number;
  /** Per protocol; 0 for no limit. */
  maxClients: number;
  /** WELCOME for a client of this camera. */
  welcome: (camera: ServedCamera) => Welcome;
  statsIntervalMs?: number;
  /** The first byte arrived: the connection is no longer pending. */
  onFirstByte?: () => void;
  /** Checks the token a v2 client presents in HELLO; with a token set, legacy clients are refused. */
  access?: AccessControl;
  /** With a token set, let legacy clients in all the same (they cannot present one). */
  allowLegacy?: boolean;
  limits: TcpLimits;
  /** A camera's events (HELLO's camera; undefined: the default), for v2 clients whose HELLO asks for them. */
  events?: (camera: string | undefined) => Observable<CameraEvent>;
}

/**
 * What a protocol's side (legacy-connection.ts, v2-connection.ts) uses of the connection that
 * detected it (tcp-connection.ts); an interface, so that neither file imports the other.
 */
export interface ConnectionLink {
  readonly options: ConnectionOptions;
  readonly socket: Socket;
  /** The connection's logger; once the session is open, a child naming the client. */
  readonly log: Logger;
  /** Set once the connection is being closed: nothing more is read or answered. */
  readonly closing: boolean;
  readonly transport: SocketTransport;
  readonly budget: ControlBudget;
  /** Whether one more client of this protocol fits under maxClients. */
  admit(protocol: ClientProtocol): boolean;
  /** Registers the client and opens its session on this camera. */
  openSession(protocol: ClientProtocol, encode: FrameEncoder, camera: ServedCamera): ClientSession;
  /** Reads `rest` (the head after detection), then every later chunk, through the protocol's decoder. */
  readOn<T>(
    rest: Buffer,
    decode: (bytes$: Observable<Buffer>) => Observable<T>,
    handle: (item: T) => void,
    onProtocolError?: (err: ProtocolError) => void,
  ): void;
  /** Starts the HELLO deadline, unless it runs already (it starts with the v2 magic). */
  startHelloTimer(): void;
  clearHelloTimer(): void;
  /** v2 only: an ERROR message, then close. */
  fail(error: ErrorBody): void;
  /** Ends the connection politely: queued bytes are flushed first. */
  close(): void;
  /** Closes at once, nothing flushed. */
  destroy(): void;
}
