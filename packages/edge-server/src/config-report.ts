// What `edgecam-server config check` prints: the resolved options in the config file's form
// (YAML, each line saying where its value came from, or JSON), with the token masked.
import { createRequire } from 'node:module';

/** One option as reported: its key, its value in the file's form, and where the value came from. */
export interface ReportRow {
  key: string;
  value: unknown;
  from: string;
}

/** Tokens shorter than this are masked whole: two characters of a short one give too much away. */
const SHOWN_TOKEN_MIN_LENGTH = 12;

/** The token as reports show it: its first two characters and an ellipsis, or `***` when short. */
export function maskToken(token: string): string {
  return token.length >= SHOWN_TOKEN_MIN_LENGTH ? `${token.slice(0, 2)}…` : '***';
}

/** The rows as a YAML config file with a comment per line, or as one JSON object. */
export function formatResolved(rows: readonly ReportRow[], format: 'yaml' | 'json', version: string): string {
  if (format === 'json') return `${JSON.stringify(Object.fromEntries(rows.map((r) => [r.key, r.value])), null, 2)}\n`;
  // Loaded only for `config check`, as in config-file.ts.
  const { stringify } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  // A map (cameras:) goes under its key, indented; its comment stays on the key's line.
  const nested = (v: unknown) => v !== null && typeof v === 'object';
  const lines = rows.map((r) => ({
    // A camera that takes a top-level block shares its object: printed in full, not as a YAML alias.
    text: nested(r.value) ? `${r.key}:` : `${r.key}: ${stringify(r.value, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd()}`,
    from: r.from,
    below: nested(r.value) ? stringify(r.value, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd().split('\n').map((l) => `  ${l}`) : [],
  }));
  const width = Math.max(...lines.map((l) => l.text.length));
  return [
    `# edgecam-server ${version}: the configuration in effect (defaults < --config file < EDGECAM_* variables < flags)`,
    ...lines.flatMap((l) => [`${l.text.padEnd(width)}  # ${l.from}`, ...l.below]),
    '',
  ].join('\n');
}
