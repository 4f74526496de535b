// Home Assistant MQTT discovery: what to publish (retained) under the discovery prefix so that a
// motion binary_sensor and a camera image appear per camera, grouped under one device per server.
// Format: <prefix>/<component>/<node_id>/<object_id>/config with a JSON config.
import type { MqttTopics } from './mqtt-topics.js';

/** A retained discovery message. */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

/** Lowercase letters, digits and `_`: what HA accepts in node and object ids. */
export function discoveryId(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
}

/** The discovery configs of every camera of one server. */
export function discoveryMessages(opts: {
  discoveryPrefix: string;
  serverName: string;
  version: string;
  cameras: readonly string[];
  topics: MqttTopics;
}): DiscoveryMessage[] {
  const node = discoveryId(`edgecam_${opts.serverName}`);
  const device = {
    identifiers: [node],
    name: `edgecam ${opts.serverName}`,
    manufacturer: 'edgecam',
    model: 'edgecam-server',
    sw_version: opts.version,
  };
  const availability = {
    availability_topic: opts.topics.status,
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  return opts.cameras.flatMap((camera) => {
    const id = discoveryId(camera);
    return [
      {
        topic: `${opts.discoveryPrefix}/binary_sensor/${node}/${id}_motion/config`,
        payload: JSON.stringify({
          name: `${camera} motion`,
          unique_id: `${node}_${id}_motion`,
          device_class: 'motion',
          state_topic: opts.topics.motion(camera),
          payload_on: 'ON',
          payload_off: 'OFF',
          json_attributes_topic: opts.topics.event(camera),
          ...availability,
          device,
        }),
      },
      {
        topic: `${opts.discoveryPrefix}/camera/${node}/${id}/config`,
        payload: JSON.stringify({
          name: camera,
          unique_id: `${node}_${id}_camera`,
          topic: opts.topics.snapshot(camera),
          ...availability,
          device,
        }),
      },
    ];
  });
}
