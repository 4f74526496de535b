// What `edgecam-server config check` prints: the resolved options in the config file's form
// (YAML, each line saying where its value came from, or JSON), with every secret masked. The
// output is itself a config file that resolves to the same configuration, but for the masked
// secrets, which the file layer refuses until they are written back.
import { createRequire } from 'node:module';
import { showUrl } from '../sources/url-credentials.js';
import { OPTIONS, OPTION_KEYS, flagName, type OptionKey } from './config-options.js';
import { CAMERA_FEATURES, cameraReport, isFeatureKey } from './camera-config.js';
import type { FileCameras } from './file-layer.js';
import { toFileForm } from './file-form.js';
import type { Origin, Winner } from './layers.js';
import type { ServerConfig } from './resolve.js';
import { isServiceKey, SERVICE_SCHEMAS } from './service-blocks.js';

/** One option as reported: its key, its value in the file's form, and where the value came from. */
export interface ReportRow {
  key: string;
  value: unknown;
  from: string;
}

/**
 * What stands for a secret in the output: a value no option takes as it is, so that a reader of
 * the output (a person, or a later `config check` round trip) can tell a masked value from a real one.
 */
export const MASKED = '***';

// Keys whose string value is a secret wherever they appear: the token, the MQTT password, a TURN
// server's credential, and the like.
const SECRET_KEY = /^(token|password|passphrase|credential|secret)$/i;

/** The token as reports show it: MASKED, whatever its length. */
export function maskToken(_token: string): string {
  return MASKED;
}

/**
 * The value with its secrets masked: secret keys' strings and every header value (webhooks' carry
 * bearer tokens) as MASKED, URLs as showUrl shows them (passwords, stream keys, secret query
 * values masked), a webhook's URL down to scheme://host[:port] since its path is the secret.
 */
export function maskSecrets(value: unknown, key = '', inWebhooks = false): unknown {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key)) return MASKED;
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
    return inWebhooks && key === 'url' ? showUrl(value, { path: false }) : showUrl(value);
  }
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key, inWebhooks));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (key === 'headers') return Object.fromEntries(entries.map(([k]) => [k, MASKED]));
  return Object.fromEntries(entries.map(([k, v]) => [k, maskSecrets(v, k, inWebhooks || k === 'webhooks')]));
}

/** How much `config check` shows: secrets masked, unless a test asks for them in clear to read the output back. */
export interface ReportSecrets {
  /** Tests only (no flag sets it): secrets as they are, so that the output reads back to the same configuration. */
  reveal?: boolean;
}

/** The rows, secrets masked, as a YAML config file with a comment per line, or as one JSON object. */
export function formatResolved(given: readonly ReportRow[], format: 'yaml' | 'json', version: string, secrets: ReportSecrets = {}): string {
  const rows = secrets.reveal ? given : given.map((r) => ({ ...r, value: maskSecrets(r.value, r.key) }));
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

/** Where a value came from, in a few words: `default`, `--port`, `EDGECAM_PORT`, `edgecam.yaml:3`. */
function originText(key: OptionKey, origin: Origin): string {
  if (origin.layer === 'file') return `${origin.path}:${origin.line}`;
  return origin.layer === 'env' ? origin.variable : origin.layer === 'flag' ? flagName(OPTIONS[key]) : 'default';
}

/**
 * The options as `config check` prints them: in the file's form (durations as `10m`, sizes as
 * `20GB`, publish targets as URLs), the token masked, each with where it came from.
 */
export function reportRows(config: ServerConfig, merged: Record<OptionKey, Winner>, file?: FileCameras, secrets: ReportSecrets = {}): ReportRow[] {
  const rows = OPTION_KEYS.map((key) => {
    const winner = merged[key];
    const from = originText(key, winner.origin);
    if (key !== 'token') return { key, value: winner.value, from };
    const tokenFile = merged.tokenFile.value;
    if (typeof tokenFile !== 'string') return { key, value: config.token === null || secrets.reveal ? config.token : maskToken(config.token), from };
    // Read from tokenFile, which the output names: in clear it is left to that file (a token
    // given twice is refused), masked it shows that there is one.
    return { key, value: secrets.reveal ? null : maskToken(config.token ?? ''), from: `read from ${tokenFile}` };
  });
  const blocks: ReportRow[] = file
    ? [...file.blockLines].map(([key, line]) => {
        const value = isServiceKey(key) ? toFileForm(SERVICE_SCHEMAS[key], config[key]) : isFeatureKey(key) ? toFileForm(CAMERA_FEATURES[key], config.features?.[key]) : undefined;
        return { key, value, from: `${file.path}:${line}` };
      })
    : [];
  const cameras = config.cameras;
  if (!cameras || !file) return [...rows, ...blocks];
  return [
    ...rows,
    ...blocks,
    { key: 'default', value: cameras[0]?.name, from: file.default ? `${file.path}:${file.default.line}` : 'the first camera' },
    {
      key: 'cameras',
      // Sources in clear here: the rows are masked as a whole, as the top-level source is.
      value: Object.fromEntries(cameras.map((c) => [c.name, cameraReport(c, config)])),
      from: `${file.path}:${file.camerasLine}, unset keys from above`,
    },
  ];
}
