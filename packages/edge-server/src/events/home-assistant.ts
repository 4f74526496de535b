// Home Assistant MQTT discovery: what to publish (retained) under the discovery prefix so that each
// camera's entities appear, grouped under one device per server: a motion binary_sensor for a
// camera with a detector, a camera (picture) entity for one that gets pictures. What a camera does
// not have is removed (an empty retained config), so an entity an earlier run published goes away.
// Format: <prefix>/<component>/<node_id>/<object_id>/config with a JSON config.
import type { MqttTopics } from './mqtt-topics.js';

/** A retained discovery message; an empty payload removes the entity. */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

/** One camera as discovery describes it. */
export interface DiscoveryCamera {
  name: string;
  /** It has a detector: a motion binary_sensor. */
  motion: boolean;
  /** It gets pictures (events' or timed ones): a camera entity. */
  picture: boolean;
}

/** The node of servers from before `name`: every one was `edgecam-server`. */
const UNNAMED_NODE = 'edgecam_edgecam_server';

/** Lowercase letters, digits and `_`: what HA accepts in node and object ids. */
export function discoveryId(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
}

/** The discovery configs (and removals) of every camera of one server. */
export function discoveryMessages(opts: {
  discoveryPrefix: string;
  serverName: string;
  version: string;
  cameras: readonly DiscoveryCamera[];
  topics: MqttTopics;
  /** The server's page, for the device's "Visit" link. */
  pageUrl?: string;
}): DiscoveryMessage[] {
  const node = discoveryId(`edgecam_${opts.serverName}`);
  const device = {
    identifiers: [node],
    name: `edgecam ${opts.serverName}`,
    manufacturer: 'edgecam',
    model: 'edgecam-server',
    sw_version: opts.version,
    ...(opts.pageUrl ? { configuration_url: opts.pageUrl } : {}),
  };
  const availability = {
    availability_topic: opts.topics.status,
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  const sensorTopic = (n: string, id: string) => `${opts.discoveryPrefix}/binary_sensor/${n}/${id}_motion/config`;
  const cameraTopic = (n: string, id: string) => `${opts.discoveryPrefix}/camera/${n}/${id}/config`;
  return opts.cameras.flatMap((camera) => {
    const id = discoveryId(camera.name);
    const sensor = camera.motion
      ? JSON.stringify({
          name: `${camera.name} motion`,
          unique_id: `${node}_${id}_motion`,
          device_class: 'motion',
          state_topic: opts.topics.motion(camera.name),
          payload_on: 'ON',
          payload_off: 'OFF',
          json_attributes_topic: opts.topics.event(camera.name),
          ...availability,
          device,
        })
      : '';
    const picture = camera.picture
      ? JSON.stringify({
          name: camera.name,
          unique_id: `${node}_${id}_camera`,
          topic: opts.topics.snapshot(camera.name),
          ...availability,
          device,
        })
      : '';
    // The entities every server published under one node before servers had names: they would
    // stay behind, unavailable, beside this server's own.
    const unnamed =
      node === UNNAMED_NODE
        ? []
        : [
            { topic: sensorTopic(UNNAMED_NODE, id), payload: '' },
            { topic: cameraTopic(UNNAMED_NODE, id), payload: '' },
          ];
    return [{ topic: sensorTopic(node, id), payload: sensor }, { topic: cameraTopic(node, id), payload: picture }, ...unnamed];
  });
}
