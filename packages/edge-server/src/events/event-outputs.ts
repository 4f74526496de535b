// Starts everything that hangs off the cameras' events: the bus, clips, webhooks and MQTT. SSE
// (createEventRoutes) and v2 EVENT (TcpConnection's `events`) read the bus this returns.
import type { Observable, Subscription } from 'rxjs';
import type { Logger } from 'pino';
import type { CameraContext, CameraEvent } from '../contracts.js';
import { ClipRecorder, RecordedClips, type ClipWriter, type EventClips } from './clip-recorder.js';
import { EventBus, type EventBusOptions } from '../camera/event-bus.js';
import type { EventsConfig } from './events-config.js';
import { MqttOutput } from './mqtt-output.js';
import { WebhookSender, type WebhookTuning } from './webhook-sender.js';

export interface EventOutputsOptions {
  config: EventsConfig;
  /** Every camera of the server, default first. */
  cameras: readonly CameraContext[];
  /** Each camera's detector output, by camera name, fed into the bus here; cameras without one have no events. */
  events?: Readonly<Record<string, Observable<CameraEvent>>>;
  /** The server's bus, already fed with the detectors' events (then `eventCameras` names the cameras that have any). */
  eventBus?: EventBus;
  eventCameras?: readonly string[];
  /** A camera's recording as clips (recording MP4): its clips are joined from it, not re-recorded as AVI. */
  clipWriter?: (camera: string) => ClipWriter | undefined;
  logger: Logger;
  /** This server's name (`name`): MQTT topics and Home Assistant ids are made from it. */
  serverName: string;
  version: string;
  /** The server's page, for the Home Assistant device's link. */
  pageUrl?: string;
  bus?: Omit<EventBusOptions, 'clipFor'>;
  webhookTuning?: WebhookTuning;
  mqttReconnectMs?: number;
}

/** The running outputs. */
export interface EventOutputs {
  readonly bus: EventBus;
  readonly webhooks: readonly WebhookSender[];
  readonly mqtt: MqttOutput | null;
  /** One camera's events for a v2 client (undefined: the default camera), as TcpConnection's `events` wants them. */
  eventsOf(camera: string | undefined): Observable<CameraEvent>;
  /** Stops every output, closing clips and saying `offline` over MQTT. */
  close(): Promise<void>;
}

/** Wires the detectors' events through one bus to every configured output. */
export function startEventOutputs(o: EventOutputsOptions): EventOutputs {
  const log = o.logger.child({ component: 'events' });
  const clips = new Map<string, EventClips>();
  const withEvents = new Set(o.eventCameras ?? Object.keys(o.events ?? {}));
  if (o.config.clips) {
    for (const camera of o.cameras) {
      if (!withEvents.has(camera.name)) continue;
      const writer = o.clipWriter?.(camera.name);
      clips.set(camera.name, writer ? new RecordedClips(camera, o.config.clips, writer) : new ClipRecorder(camera, o.config.clips));
    }
  }
  const bus = o.eventBus ?? new EventBus(o.bus);
  if (clips.size > 0) bus.nameClipsWith((e) => clips.get(e.camera)?.handle(e));
  const webhooks = o.config.webhooks.map((w) => new WebhookSender(w, log, o.webhookTuning));
  const mqtt = o.config.mqtt
    ? new MqttOutput({
        config: o.config.mqtt,
        cameras: o.cameras,
        eventCameras: [...withEvents],
        serverName: o.serverName,
        version: o.version,
        pageUrl: o.pageUrl,
        // Its own component, not under `events` (a line would carry the key twice).
        logger: o.logger,
        reconnectMs: o.mqttReconnectMs,
      })
    : null;
  const outputs: Subscription = bus.events$.subscribe((b) => {
    const json = bus.json(b);
    for (const w of webhooks) w.offer(json);
    mqtt?.publish(b, json);
  });
  const inputs: Subscription | undefined = o.events ? bus.feed(o.events, log) : undefined;
  const defaultCamera = o.cameras[0]?.name;
  return {
    bus,
    webhooks,
    mqtt,
    eventsOf: (camera) => bus.eventsOf(camera ?? defaultCamera ?? ''),
    close: async () => {
      inputs?.unsubscribe();
      outputs.unsubscribe();
      for (const w of webhooks) w.close();
      // A bus the server gave is the server's to close.
      if (!o.eventBus) bus.close();
      await Promise.all([...[...clips.values()].map((c) => c.close()), mqtt?.close()]);
    },
  };
}
