// The topics edgecam publishes under its prefix (by default `edgecam/NAME`, NAME the server's);
// camera names are made safe for a topic level.

/** Where one server's state goes. */
export interface MqttTopics {
  /** `online` / `offline` (the broker publishes `offline` as our last will). */
  readonly status: string;
  /** `ON` / `OFF`, retained. */
  motion(camera: string): string;
  /** The event's JSON at each phase. */
  event(camera: string): string;
  /** The event's JPEG, retained. */
  snapshot(camera: string): string;
}

/** A camera name as one topic level: no `/`, `#`, `+` or control characters. */
export function topicLevel(name: string): string {
  return name.replace(/[/#+\u0000-\u001f\u007f]/g, '_') || '_';
}

/** The prefix when none is configured: `edgecam/NAME`, one per server, so servers sharing a broker never share a topic. */
export function defaultTopicPrefix(serverName: string): string {
  return `edgecam/${topicLevel(serverName)}`;
}

/** The topics under `prefix` (e.g. `edgecam/garage`). */
export function mqttTopics(prefix: string): MqttTopics {
  const p = prefix.replace(/\/+$/, '');
  return {
    status: `${p}/status`,
    motion: (c) => `${p}/${topicLevel(c)}/motion`,
    event: (c) => `${p}/${topicLevel(c)}/event`,
    snapshot: (c) => `${p}/${topicLevel(c)}/snapshot`,
  };
}
