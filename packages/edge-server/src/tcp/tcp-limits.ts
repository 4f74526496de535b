// What one TCP peer may cost. In a file of its own so the listener, which fills in the defaults,
// and each connection, which spends them, can both import it without importing each other.

/** Limits on what one TCP peer may cost; tests shorten them. */
export interface TcpLimits {
  /** A TLS handshake not done in this time is failed and its socket destroyed. */
  tlsHandshakeTimeoutMs: number;
  /** A client whose socket takes none of the frame in flight for this long is closed; 0: never. */
  stallTimeoutMs: number;
  /** Control messages (PING, COMMAND, HELLO, legacy commands) answered per second, and at once. */
  controlPerSecond: number;
  controlBurst: number;
  /** Messages over that budget are dropped; past this many (refilled per second) the client is closed. */
  overBudgetBurst: number;
  overBudgetPerSecond: number;
}

/** The limits a TCP peer gets unless StartOptions.tcpLimits says otherwise. */
export const TCP_LIMITS: Readonly<TcpLimits> = {
  // node's default of 120 s would let silent sockets pile up.
  tlsHandshakeTimeoutMs: 10_000,
  // What HTTP stream viewers get too.
  stallTimeoutMs: 30_000,
  // A client pings once a second or so; even a burst of commands is a few.
  controlPerSecond: 50,
  controlBurst: 100,
  overBudgetBurst: 1000,
  overBudgetPerSecond: 200,
};
