// Events to an MQTT broker (the `mqtt` package): per camera with a detector a retained motion
// state and the event JSON, per camera a snapshot JPEG (events' and timed pictures), our
// availability as a retained status with `offline` as the last will, and Home Assistant
// discovery. Topics are under `edgecam/NAME` unless topicPrefix says otherwise, and discovery ids
// are made from NAME, so servers sharing a broker stay apart. mqtt.js reconnects by itself; on
// every (re)connect we publish discovery and the current state again, since a restarted broker
// may have lost both.
// While disconnected, mqtt.js would queue publishes without bound, so we drop them instead: the
// state that matters is re-published on connect.
import type { MqttClient } from 'mqtt';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { BusEvent, EventJson } from '../camera/event-bus.js';
import type { CameraContext } from '../contracts.js';
import { CameraPictures } from './camera-pictures.js';
import type { MqttConfig } from './events-config.js';
import { discoveryMessages } from './home-assistant.js';
import { capIncomingPackets } from './mqtt-packet-cap.js';
import { defaultTopicPrefix, mqttTopics, type MqttTopics } from './mqtt-topics.js';
import { showUrl } from '../sources/url-credentials.js';

export interface MqttOutputOptions {
  config: MqttConfig;
  /** Every camera of the server. */
  cameras: readonly CameraContext[];
  /** The cameras with a detector: only they have a motion state (and binary_sensor). */
  eventCameras: readonly string[];
  /** This server's name (`name`): in the default topic prefix and the discovery ids. */
  serverName: string;
  version: string;
  /** The server's page, for the Home Assistant device's link. */
  pageUrl?: string;
  logger: Logger;
  /** Between reconnect attempts. Default 2 s. */
  reconnectMs?: number;
}

// How long close() waits for the broker to take our `offline`.
const CLOSE_GRACE_MS = 1000;

/** One connection to the broker for the whole server. */
export class MqttOutput {
  /** null until mqtt.js is loaded (only a server that configures MQTT pays for it). */
  private client: MqttClient | null = null;
  private readonly loaded: Promise<void>;
  private closed = false;
  private readonly topics: MqttTopics;
  private readonly motion = new Map<string, boolean>();
  private readonly lastSnapshot = new Map<string, Buffer>();
  private readonly pictures: CameraPictures;
  private readonly log: Logger;
  private wasConnected = false;
  /** Publishes dropped while the broker was away. */
  dropped = 0;

  constructor(private readonly o: MqttOutputOptions) {
    this.log = o.logger.child({ component: 'mqtt' });
    this.topics = mqttTopics(o.config.topicPrefix ?? defaultTopicPrefix(o.serverName));
    for (const c of o.eventCameras) this.motion.set(c, false);
    this.pictures = new CameraPictures({
      cameras: o.cameras,
      everyMs: o.config.snapshotInterval,
      logger: this.log,
      // While an event goes on, its snapshots are the camera's picture.
      skip: (camera) => !this.connected || this.motion.get(camera) === true,
      deliver: (camera, jpeg) => this.publishPicture(camera, jpeg),
    });
    this.loaded = import('mqtt').then(({ default: mqtt }) => {
      if (this.closed) return;
      const client = mqtt.connect(o.config.url, {
        username: o.config.username,
        password: o.config.password,
        clientId: `edgecam-${o.serverName}-${process.pid}`.slice(0, 64),
        reconnectPeriod: o.reconnectMs ?? 2000,
        connectTimeout: 10_000,
        will: { topic: this.topics.status, payload: Buffer.from('offline'), retain: true, qos: 1 },
        // Our own queue is the state re-published on connect; mqtt.js's offline queue is unbounded.
        queueQoSZero: false,
        // Connected below, once every connection's stream has the size cap on it.
        manualConnect: true,
      });
      // mqtt.js builds each connection's stream with this (typed private; the MQTT tests hold it to it).
      const builder = client as unknown as { streamBuilder: (c: MqttClient) => Duplex };
      const build = builder.streamBuilder;
      builder.streamBuilder = (c) => capIncomingPackets(build(c));
      client.connect();
      client.on('connect', () => this.onConnect());
      client.on('close', () => {
        if (this.wasConnected) this.log.warn({ url: showUrl(o.config.url) }, 'MQTT broker connection lost; reconnecting');
        this.wasConnected = false;
      });
      client.on('error', (err) => this.log.warn({ err: err.message, url: showUrl(o.config.url) }, 'MQTT error'));
      this.client = client;
    }).catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'MQTT client could not be loaded; events are not published to the broker'));
  }

  /** True while connected to the broker. */
  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Publishes one event: motion state, event JSON, snapshot. */
  publish(b: BusEvent, json: EventJson): void {
    const camera = b.event.camera;
    const on = b.event.phase !== 'end';
    const changed = this.motion.get(camera) !== on;
    this.motion.set(camera, on);
    if (b.event.snapshot) this.lastSnapshot.set(camera, b.event.snapshot.jpeg);
    if (!this.client?.connected) {
      this.dropped++;
      return;
    }
    if (changed || b.event.phase === 'start') this.send(this.topics.motion(camera), on ? 'ON' : 'OFF', true);
    this.send(this.topics.event(camera), JSON.stringify(json), false);
    if (b.event.snapshot) this.send(this.topics.snapshot(camera), b.event.snapshot.jpeg, true);
  }

  /** A camera's picture to its snapshot topic (retained), and again at each reconnect. */
  publishPicture(camera: string, jpeg: Buffer): void {
    this.lastSnapshot.set(camera, jpeg);
    if (this.client?.connected) this.send(this.topics.snapshot(camera), jpeg, true);
  }

  /** Says `offline` (waiting a moment for the broker to take it) and disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    this.pictures.close();
    await this.loaded;
    if (!this.client) return;
    if (this.client.connected) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.client.publishAsync(this.topics.status, 'offline', { retain: true, qos: 1 }).catch(() => undefined),
        new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
      ]);
      clearTimeout(timer);
    }
    await this.client.endAsync(true);
  }

  private onConnect(): void {
    this.wasConnected = true;
    this.log.info({ url: showUrl(this.o.config.url) }, 'MQTT connected');
    this.send(this.topics.status, 'online', true);
    if (this.o.config.discovery) {
      for (const m of discoveryMessages({
        discoveryPrefix: this.o.config.discoveryPrefix,
        serverName: this.o.serverName,
        version: this.o.version,
        cameras: this.o.cameras.map(({ name }) => ({
          name,
          motion: this.motion.has(name),
          picture: this.motion.has(name) || this.o.config.snapshotInterval > 0,
        })),
        topics: this.topics,
        pageUrl: this.o.pageUrl,
      })) {
        this.send(m.topic, m.payload, true);
      }
    }
    for (const [camera, on] of this.motion) this.send(this.topics.motion(camera), on ? 'ON' : 'OFF', true);
    for (const [camera, jpeg] of this.lastSnapshot) this.send(this.topics.snapshot(camera), jpeg, true);
    this.pictures.takeAll();
  }

  private send(topic: string, payload: string | Buffer, retain: boolean): void {
    this.client?.publish(topic, payload, { retain, qos: retain ? 1 : 0 }, (err) => {
      if (err) this.log.debug({ topic, err: err.message }, 'MQTT publish failed');
    });
  }
}
