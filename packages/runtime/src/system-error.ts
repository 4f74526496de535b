// One table of system error codes as short reasons, for messages a person reads ("could not open
// X: permission denied"). Node's own messages name the syscall and the code, not the cause.

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EROFS: 'the filesystem is read-only',
  EIO: 'an I/O error occurred',
  EEXIST: 'the file already exists',
  EMFILE: 'too many open files',
  EADDRINUSE: 'the address is in use',
  EADDRNOTAVAIL: 'the address is not available',
  ECONNREFUSED: 'connection refused (is the server running, and on this port?)',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved right now',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
};

/** A short reason for a thrown error: the table's sentence for its `code`, else its message. */
export function describeSystemError(err: unknown): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  const known = typeof code === 'string' ? REASONS[code] : undefined;
  if (known !== undefined) return known;
  return err instanceof Error ? err.message : String(err);
}
