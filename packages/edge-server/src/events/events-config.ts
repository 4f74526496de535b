// The `events:` section of the server's config: where camera events go besides SSE and v2.
import { z } from 'zod';
import { parseDuration as parseDurationText } from '../config/units.js';

/** `5s`, `500ms`, `2m` (any duration units.ts reads) or a number of seconds, as milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  return parseDurationText(value);
}

const duration = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a duration; write e.g. 5s, 500ms or 2m` });
      return z.NEVER;
    }
    return ms;
  });

/** A picture interval: a duration of at least a second (`60s`, `5m`), or 0 / `off` for none. */
const pictureInterval = z
  .union([z.literal('off'), z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = v === 'off' ? 0 : parseDuration(v);
    if (ms === undefined || (ms > 0 && ms < 1000)) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not an interval; write e.g. 60s or 5m (at least 1s), or off` });
      return z.NEVER;
    }
    return ms;
  });

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
  discovery: z.boolean().default(true),
  discoveryPrefix: z.string().regex(/^[^#+]+$/, 'must not contain MQTT wildcards (# +)').default('homeassistant'),
  /** Each camera's picture to its snapshot topic at connect and this often (ms); 0: only events' pictures. */
  snapshotInterval: pictureInterval
    .prefault('60s')
    .describe("each camera's picture on its snapshot topic at connect and this often, besides events' (default 60s; off or 0: events' only)"),
});

export const clipsConfigSchema = z.strictObject({
  dir: z.string().min(1),
  preRoll: duration.default(5000),
  postRoll: duration.default(5000),
  /** A clip stops here even if its event goes on, so one stuck event cannot fill the disk. */
  maxLength: duration.default(300_000),
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
