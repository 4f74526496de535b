// Why the server could not open its ports, as one sentence naming the flag and variable that
// fix it: the failures a person meets in the first five minutes deserve no stack trace.

/** The options a listen failure is about. */
export interface ListenTarget {
  host: string;
  port: number;
  /** null with --no-http. */
  httpPort: number | null;
}

/** The sentence for a failed listen (port in use, privileged port, foreign or unknown host), or null for any other error. */
export function describeListenFailure(err: unknown, target: ListenTarget): string | null {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (typeof e !== 'object' || e === null) return null;
  const which =
    e.port === undefined ? null
    : e.port === target.port ? { name: 'TCP port', with: '--port or EDGECAM_PORT', also: '' }
    : e.port === target.httpPort ? { name: 'HTTP port', with: '--http-port or EDGECAM_HTTP_PORT', also: ', or turn HTTP off with --no-http' }
    : null;
  switch (e.code) {
    case 'EADDRINUSE':
      if (!which) return null;
      return `${which.name} ${e.port} is in use (another edgecam-server?); choose another with ${which.with}${which.also}`;
    case 'EACCES':
      if (!which) return null;
      return `${which.name} ${e.port} needs privileges (ports below 1024 do); choose one from 1024 up with ${which.with}`;
    case 'EADDRNOTAVAIL':
      return `--host ${target.host} is not an address of this machine; choose one it has, or 0.0.0.0 for all, with --host or EDGECAM_HOST`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `--host ${target.host} does not resolve to an address; give an address of this machine, or 0.0.0.0 for all, with --host or EDGECAM_HOST`;
    default:
      return null;
  }
}
