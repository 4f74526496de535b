// The `events:` section of the server's config: where camera events go besides SSE and v2.
import { z } from 'zod';
import { duration as durationSchema, onOff } from '../config/units.js';

// As every duration of the config file: a bare number of seconds, or `5s`, `500ms`, `2m`; held in ms.
const duration = durationSchema();

/** `5s`, `500ms`, `2m` (any duration units.ts reads) or a number of seconds, as milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  const r = duration.safeParse(value);
  return r.success ? r.data : undefined;
}

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
  topicPrefix: z.string().regex(/^[^#+]+$/, 'must not contain MQTT wildcards (# +)').default('edgecam'),
  /** Publish Home Assistant MQTT discovery, so its entities appear by themselves. */
  discovery: onOff().prefault(true),
  discoveryPrefix: z.string().regex(/^[^#+]+$/, 'must not contain MQTT wildcards (# +)').default('homeassistant'),
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
