import net, { type Socket } from 'node:net';
import { CliError, ExitCode } from './errors.js';

/** `host:port`, with brackets around an IPv6 address. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
export { seconds as formatSeconds };

/** A sentence for a failed connect, by errno. */
export function connectError(address: string, err: NodeJS.ErrnoException): CliError {
  const why: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is the server running, and on this port?)',
    ENOTFOUND: 'the host name does not resolve',
    EAI_AGAIN: 'the host name could not be resolved right now',
    EHOSTUNREACH: 'the host is unreachable',
    ENETUNREACH: 'the network is unreachable',
    ETIMEDOUT: 'the connection timed out',
    ECONNRESET: 'the connection was reset',
    EADDRNOTAVAIL: 'the address is not available',
  };
  const reason = (err.code !== undefined ? why[err.code] : undefined) ?? err.message;
  return new CliError(ExitCode.CONNECTION, `could not connect to ${address}: ${reason}`, { cause: err });
}

/**
 * Opens a TCP connection, failing with a CliError within `timeoutMs`. The socket has Nagle off:
 * commands are single bytes and must leave at once.
 */
export function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  const address = formatAddress(host, port);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new CliError(
          ExitCode.CONNECTION,
          `could not connect to ${address} within ${seconds(timeoutMs)}: no answer (is the address right?)`,
        ),
      );
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectError(address, err));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
