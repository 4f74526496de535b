// The --source value: testsrc | v4l2:/dev/videoN | file:PATH | stdin.

/** A parsed --source value. */
export type SourceSpec =
  | { kind: 'testsrc' }
  | { kind: 'v4l2'; device: string }
  | { kind: 'file'; path: string }
  | { kind: 'stdin' };

/** The accepted --source forms, for help and error messages. */
export const SOURCE_SYNTAX = 'testsrc, v4l2:/dev/videoN, file:PATH or stdin';

/** Parses a --source value; returns undefined when it is none of the accepted forms. */
export function parseSourceSpec(text: string): SourceSpec | undefined {
  if (text === 'testsrc') return { kind: 'testsrc' };
  if (text === 'stdin' || text === '-') return { kind: 'stdin' };
  if (text.startsWith('v4l2:')) {
    const device = text.slice(5);
    return /^\/dev\/\S+$/.test(device) ? { kind: 'v4l2', device } : undefined;
  }
  if (text.startsWith('file:')) {
    const path = text.slice(5);
    return path.length > 0 ? { kind: 'file', path } : undefined;
  }
  return undefined;
}

/** A SourceSpec as it is written on the command line. */
export function formatSourceSpec(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'testsrc':
    case 'stdin':
      return spec.kind;
    case 'v4l2':
      return `v4l2:${spec.device}`;
    case 'file':
      return `file:${spec.path}`;
  }
}
