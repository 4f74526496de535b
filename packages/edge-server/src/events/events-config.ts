// The `events:` section of the server's config: where camera events go besides SSE and v2.
import { z } from 'zod';
import { withFileForm } from '../config/file-form.js';
import { duration as durationSchema, formatDuration, onOff } from '../config/units.js';

// As every duration of the config file: a bare number of seconds, or `5s`, `500ms`, `2m`; held in ms.
const duration = durationSchema();

/** `5s`, `500ms`, `2m` (any duration units.ts reads) or a number of seconds, as milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  const r = duration.safeParse(value);
  return r.success ? r.data : undefined;
}

/** A picture interval: a duration of at least a second (`60s`, `5m`, a bare number of seconds), or 0 / `off` for none. */
const atLeastASecond = durationSchema({ min: 1000 });
const pictureInterval = withFileForm(
  z.union([z.literal('off'), z.literal(0), z.literal('0')]).transform(() => 0).or(atLeastASecond),
  (ms: number) => (ms === 0 ? 'off' : formatDuration(ms)),
);

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const phase = z.enum(['start', 'update', 'end']);

export const webhookConfigSchema = z.strictObject({
  url: httpUrl,
  headers: z.record(z.string(), z.string()).optional(),
  /** Which phases to POST; default start and end. */
  events: z.array(phase).default(['start', 'end']),
});

export const mqttConfigSchema = z.strictObject({
  url: z.url({ protocol: /^(mqtts?|wss?|tcp)$/, error: 'must be an mqtt://, mqtts://, ws:// or wss:// URL' }),
  username: z.string().optional(),
  password: z.string().optional(),
  /** Absent: `edgecam/NAME` (the server's `name`), so that servers sharing a broker never share a topic. */
  topicPrefix: z
    .string()
    .regex(/^[^#+]+$/, 'must not contain MQTT wildcards (# +)')
    .optional()
    .describe("where the state topics go; default edgecam/NAME, NAME being the server's name, unique per server"),
  /** Publish Home Assistant MQTT discovery, so its entities appear by themselves. */
  discovery: onOff().prefault(true),
  discoveryPrefix: z.string().regex(/^[^#+]+$/, 'must not contain MQTT wildcards (# +)').default('homeassistant'),
  /** Each camera's picture to its snapshot topic at connect and this often (ms); 0: only events' pictures. */
  snapshotInterval: pictureInterval
    .prefault('60s')
    .describe("each camera's picture on its snapshot topic at connect and this often, besides events' (default 60s; off or 0: events' only)"),
});

export const clipsConfigSchema = z.strictObject({
  dir: z.string().min(1),
  preRoll: duration.prefault('5s'),
  postRoll: duration.prefault('5s'),
  /** A clip stops here even if its event goes on, so one stuck event cannot fill the disk. */
  maxLength: duration.prefault('5m'),
});

/** The `events:` section: webhooks, MQTT (with Home Assistant discovery) and event clips. */
export const eventsConfigSchema = z.strictObject({
  webhooks: z.array(webhookConfigSchema).default([]),
  mqtt: mqttConfigSchema.optional(),
  clips: clipsConfigSchema.optional(),
});

export type EventsConfig = z.output<typeof eventsConfigSchema>;
export type WebhookConfig = z.output<typeof webhookConfigSchema>;
export type MqttConfig = z.output<typeof mqttConfigSchema>;
export type ClipsConfig = z.output<typeof clipsConfigSchema>;
