// The TCP listener: legacy and v2 clients on one port, each connection its own session.
// It also keeps hostile or dead peers from piling up: connections that have not sent their first
// byte are limited (the oldest is closed to admit a new one, so a flood of silent connections
// cannot lock real clients out), idle connections that stay silent are swept, and so are
// clients whose socket has taken nothing for the stall timeout.
import { PerHostCount } from '../access/per-host-count.js';
import { formatPeerAddress } from '../log/peer-address.js';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { AccessControl } from '../access/access-control.js';
import { peerKey } from '../access/address-key.js';
import type { Logger } from 'pino';
import type { Welcome } from '@edgecam/protocol';
import type { ClientRegistry } from '../contracts.js';
import { TcpConnection } from './tcp-connection.js';
import { TCP_LIMITS, type TcpLimits } from './tcp-limits.js';
import type { CameraChoice, ConnectionOptions, ServedCamera } from './types.js';
import { LogLimiter } from '../log/log-limiter.js';
import { listen } from '@edgecam/runtime';

/** Options of EdgeTcpServer. */
export interface TcpServerOptions {
  /** The cameras this port serves: all of them on the main port, one on a camera's legacyPort. */
  cameras: CameraChoice;
  registry: ClientRegistry;
  logger: Logger;
  host: string;
  port: number;
  /** Per protocol (legacy, v2); 0 for no limit. */
  maxClients: number;
  /** Connections from one address (IPv6: one /64), handshaking or not; 0 or absent for no limit. */
  maxPerAddress?: number;
  helloTimeoutMs: number;
  /** WELCOME for a client of this camera; its sourceLoss$ tells v2 clients with a non-fatal ERROR. */
  welcome: (camera: ServedCamera) => Welcome;
  statsIntervalMs?: number;
  /** Connections that have not sent a byte yet, at most. Default 64. */
  maxPending?: number;
  /** A connection that receives no frames and sends nothing this long is closed (a v2 client with IDLE_TIMEOUT); 0: never. Default 600 s. */
  idleTimeoutMs?: number;
  /** Checks v2 tokens; with a token set, legacy clients are refused unless allowLegacy. */
  access?: AccessControl;
  /** Bounds the lines peers cause; shared with the HTTP side by the server. Default: one of its own. */
  logLimiter?: LogLimiter;
  allowLegacy?: boolean;
  /** Serve over TLS with this key and certificate (PEM). */
  tls?: { key: string; cert: string } | null;
  /** Overrides TCP_LIMITS (tests use short timeouts). */
  limits?: Partial<TcpLimits>;
  /** A camera's events, for v2 clients whose HELLO asks for them (TcpConnection). */
  events?: ConnectionOptions['events'];
}

const DEFAULT_MAX_PENDING = 64;
const DEFAULT_IDLE_TIMEOUT_MS = 600_000;
// Under a flood, one warning per this interval says how many silent connections were closed.
const EVICTION_LOG_INTERVAL_MS = 5000;

/** The TCP listener for legacy and v2 clients, over TLS when configured. */
export class EdgeTcpServer {
  private readonly o: TcpServerOptions;
  private readonly limits: TcpLimits;
  private readonly server: Server;
  private readonly connections = new Set<TcpConnection>();
  /** Connections without their first byte, oldest first (a Set keeps insertion order). */
  private readonly pending = new Set<TcpConnection>();
  /**
   * Over TLS, raw sockets still in their handshake, oldest first, by peer address and port (what
   * the TLS socket made from one reports too). They are limited by --max-pending as well, so a
   * flood of connections that never finish a handshake cannot hold sockets for 10 s each.
   */
  private readonly handshaking = new Map<string, Socket>();
  /** Open sockets per host, for --max-per-address. */
  private readonly perAddress: PerHostCount;
  private refusedLoggedAt = Number.NEGATIVE_INFINITY;
  private readonly log: Logger;
  private readonly maxPending: number;
  private readonly idleTimeoutMs: number;
  private sweepTimer: NodeJS.Timeout | null = null;
  private evicted = 0;
  private evictedLogged = 0;
  private evictionLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(o: TcpServerOptions) {
    this.o = o;
    this.limits = { ...TCP_LIMITS, ...o.limits };
    this.perAddress = new PerHostCount(o.maxPerAddress ?? 0);
    const log = o.logger.child({ component: 'tcp' });
    this.log = log;
    const logLimiter = o.logLimiter ?? new LogLimiter();
    this.maxPending = o.maxPending ?? DEFAULT_MAX_PENDING;
    this.idleTimeoutMs = o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const onConnection = (socket: Socket) => {
      // Over TLS the raw socket was counted when it arrived (handshakeStarted).
      if (o.tls) this.handshakeEnded(socket);
      else if (!this.admitAddress(socket)) return;
      if (this.pending.size >= this.maxPending) this.evictOldestPending();
      const conn = new TcpConnection({
        socket,
        cameras: o.cameras,
        registry: o.registry,
        logger: logLimiter.forPeer(log, socket.remoteAddress),
        helloTimeoutMs: o.helloTimeoutMs,
        maxClients: o.maxClients,
        welcome: o.welcome,
        statsIntervalMs: o.statsIntervalMs,
        onFirstByte: () => this.pending.delete(conn),
        access: o.access,
        allowLegacy: o.allowLegacy,
        limits: this.limits,
        events: o.events,
      });
      this.connections.add(conn);
      this.pending.add(conn);
      void conn.closed.then(() => {
        this.connections.delete(conn);
        this.pending.delete(conn);
      });
    };
    // Over TLS a connection reaches us once its handshake is done; until then node holds it.
    this.server = o.tls
      ? createTlsServer({ key: o.tls.key, cert: o.tls.cert, handshakeTimeout: this.limits.tlsHandshakeTimeoutMs }, onConnection)
      : createServer(onConnection);
    if (o.tls) {
      this.server.on('connection', (raw: Socket) => this.handshakeStarted(raw));
      this.server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
        // With a listener here node leaves the socket open, even after its handshake timeout.
        socket.destroy();
        this.handshakeEnded(socket);
        logLimiter.forPeer(log, socket.remoteAddress).debug({ err: err.message, code: err.code, peer: formatPeerAddress(socket) }, 'TLS handshake failed');
      });
    }
    // A listen error (port in use) rejects listen() and is reported once by the caller.
    this.server.on('error', (err) => {
      if (this.server.listening) log.error({ err: err.message }, 'tcp server error');
    });
  }

  /** Open connections, detected or not. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Open connections that have not sent a byte yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Over TLS, connections still in their handshake. */
  get handshakingCount(): number {
    return this.handshaking.size;
  }

  /** Silent connections closed to make room under --max-pending, since start. */
  get evictedCount(): number {
    return this.evicted;
  }

  /** What each open connection has queued in user space, by client id (0 before its session opens). */
  queuedBytes(): { clientId: number; bytes: number }[] {
    return [...this.connections].map((c) => ({ clientId: c.clientId ?? 0, bytes: c.queuedBytes }));
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  async listen(): Promise<number> {
    const port = await listen(this.server, this.o.port, this.o.host);
    this.startSweep();
    return port;
  }

  /** Stops accepting, closes every session, and resolves once every socket is closed. */
  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of this.connections) conn.close();
    await Promise.all([...this.connections].map((c) => c.closed));
    await stopped;
  }

  private handshakeStarted(raw: Socket): void {
    if (!this.admitAddress(raw)) return;
    if (this.handshaking.size >= this.maxPending) {
      const [key, oldest] = this.handshaking.entries().next().value as [string, Socket];
      this.handshaking.delete(key);
      oldest.destroy();
      this.noteEviction();
    }
    const key = formatPeerAddress(raw);
    this.handshaking.set(key, raw);
    raw.once('close', () => {
      if (this.handshaking.get(key) === raw) this.handshaking.delete(key);
    });
  }

  /** Counts a new socket against its address until it closes; destroys it when the address has its fill. */
  private admitAddress(raw: Socket): boolean {
    // A host rotating addresses in its /64 is still bounded by --max-clients and --max-pending.
    const key = peerKey(raw.remoteAddress);
    if (this.perAddress.full(key)) {
      raw.destroy();
      const now = performance.now();
      if (now - this.refusedLoggedAt >= EVICTION_LOG_INTERVAL_MS) {
        this.refusedLoggedAt = now;
        this.log.warn({ address: key, maxPerAddress: this.perAddress.max }, 'too many connections from one address; refusing (--max-per-address)');
      }
      return false;
    }
    raw.once('close', this.perAddress.take(key));
    return true;
  }

  /** The handshake of the raw socket under `socket` is over, done or failed. */
  private handshakeEnded(socket: Socket): void {
    this.handshaking.delete(formatPeerAddress(socket));
  }

  private evictOldestPending(): void {
    const oldest = this.pending.values().next().value;
    if (!oldest) return;
    this.pending.delete(oldest);
    oldest.destroy();
    this.noteEviction();
  }

  /** Counts a silent connection closed for room, and warns at most once per interval. */
  private noteEviction(): void {
    this.evicted++;
    const now = performance.now();
    if (now - this.evictionLoggedAt >= EVICTION_LOG_INTERVAL_MS) {
      this.log.warn(
        { maxPending: this.maxPending, closed: this.evicted - this.evictedLogged, closedTotal: this.evicted },
        'too many connections that sent nothing; closed the oldest',
      );
      this.evictionLoggedAt = now;
      this.evictedLogged = this.evicted;
    }
  }

  /**
   * Closes connections idle past the idle timeout, and clients stalled past the stall timeout;
   * checked a few times per timeout (at most once a second).
   */
  private startSweep(): void {
    const idleMs = this.idleTimeoutMs;
    const stallMs = this.limits.stallTimeoutMs;
    const timeouts = [idleMs, stallMs].filter((ms) => ms > 0);
    if (timeouts.length === 0 || this.sweepTimer) return;
    const every = Math.max(50, Math.min(1000, Math.min(...timeouts) / 4));
    this.sweepTimer = setInterval(() => {
      const now = performance.now();
      for (const conn of this.connections) {
        if (idleMs > 0 && conn.idleSince(now) >= idleMs) conn.closeIdle(idleMs);
        else if (stallMs > 0 && conn.stalledSince(now) >= stallMs) conn.closeStalled(stallMs);
      }
    }, every);
    this.sweepTimer.unref();
  }
}
