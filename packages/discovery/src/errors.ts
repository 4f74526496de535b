/**
 * Stable error codes of @edgecam/discovery. Callers branch on `code`; a code never changes meaning.
 */
export type DiscoveryErrorCode =
  | 'BAD_OPTIONS' // announce/browse/resolve options refused (a name too long, a port out of range, no such interface)
  | 'SOCKET' // the mDNS socket could not be opened (UDP 5353 held by a program that does not share it, no permission)
  | 'SEND' // a packet could not be sent (no route for multicast): announcing goes on and retries when the network changes
  | 'CONFLICT' // another responder on the LAN announces the same instance name with other data
  | 'NOT_FOUND'; // resolve(): nothing answered for the name in time

/** The one error class of the package: a stable `code` and one sentence naming the cause and the fix. */
export class DiscoveryError extends Error {
  readonly code: DiscoveryErrorCode;

  constructor(code: DiscoveryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiscoveryError';
    this.code = code;
  }
}

/** A socket error as a DiscoveryError whose sentence says what to do. */
export function socketError(err: unknown): DiscoveryError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new DiscoveryError('SOCKET', 'UDP port 5353 (mDNS) is held by a program that does not share it (EADDRINUSE): stop that program or make it share the port (SO_REUSEADDR)', { cause: err });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new DiscoveryError('SOCKET', `UDP port 5353 (mDNS) cannot be opened (${code}): a firewall or sandbox forbids it; allow UDP 5353 for this program`, { cause: err });
  }
  return new DiscoveryError('SOCKET', `the mDNS socket failed (${code ?? (err as Error | undefined)?.message ?? String(err)}): check the network interfaces, then start again`, { cause: err });
}

/** A send error as a DiscoveryError whose sentence says what to do. */
export function sendError(err: unknown): DiscoveryError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH' || code === 'EADDRNOTAVAIL') {
    return new DiscoveryError(
      'SEND',
      `no route for mDNS multicast (224.0.0.251, ${code}): the network is not up yet or has no default route; it is retried when an interface comes up (or add one: ip route add 224.0.0.0/4 dev IFACE)`,
      { cause: err },
    );
  }
  return new DiscoveryError('SEND', `an mDNS packet could not be sent (${code ?? (err as Error | undefined)?.message ?? String(err)}); it is retried when the network changes`, { cause: err });
}
