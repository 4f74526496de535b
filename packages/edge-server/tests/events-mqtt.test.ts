import { afterEach, describe, expect, it } from 'vitest';
import type { EventBus } from '../src/camera/event-bus.js';
import { startEventOutputs, type EventOutputs } from '../src/events/event-outputs.js';
import { eventsConfigSchema } from '../src/events/events-config.js';
import { Subject } from 'rxjs';
import type { CameraEvent } from '../src/contracts.js';
import { cameraContext, motion } from './support/events.js';
import { memoryLogger } from './support/logger.js';
import { hasMosquitto, startAedes, startMosquitto, text, watch } from './support/mqtt.js';
import { waitUntil } from './support/wait.js';

const JPEG = Buffer.from([0xff, 0xd8, 0x02, 0xff, 0xd9]);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startOutputs(port: number, events$: Subject<CameraEvent>): { outputs: EventOutputs; bus: EventBus } {
  // The layout from before servers had names, which topicPrefix: edgecam keeps.
  const config = eventsConfigSchema.parse({ mqtt: { url: `mqtt://127.0.0.1:${port}`, topicPrefix: 'edgecam' } });
  const outputs = startEventOutputs({
    config,
    cameras: [cameraContext('front'), cameraContext('back door')],
    events: { front: events$ },
    logger: memoryLogger('silent').logger,
    serverName: 'garage',
    version: '0.1.0',
    mqttReconnectMs: 100,
  });
  cleanups.push(() => outputs.close());
  return { outputs, bus: outputs.bus };
}

async function behavesLikeAnEdgecamPublisher(port: number): Promise<void> {
  const seen = await watch(port);
  const events$ = new Subject<CameraEvent>();
  const { outputs } = startOutputs(port, events$);
  await waitUntil(() => text(seen, 'edgecam/status') === 'online', 10_000, 'edgecam/status online');
  // Home Assistant discovery: one device, a motion binary_sensor and a camera per camera.
  await waitUntil(() => seen.has('homeassistant/camera/edgecam_garage/back_door/config'), 10_000, 'discovery');
  const sensor = JSON.parse(text(seen, 'homeassistant/binary_sensor/edgecam_garage/front_motion/config')!);
  expect(sensor).toMatchObject({
    device_class: 'motion',
    state_topic: 'edgecam/front/motion',
    payload_on: 'ON',
    payload_off: 'OFF',
    availability_topic: 'edgecam/status',
    unique_id: 'edgecam_garage_front_motion',
    device: { identifiers: ['edgecam_garage'], name: 'edgecam garage' },
  });
  const camera = JSON.parse(text(seen, 'homeassistant/camera/edgecam_garage/front/config')!);
  expect(camera).toMatchObject({ topic: 'edgecam/front/snapshot', device: { identifiers: ['edgecam_garage'] } });
  expect(text(seen, 'edgecam/front/motion')).toBe('OFF');

  events$.next(motion('front-1', 'start', { snapshot: { seq: 1, captureTimeUs: 1, jpeg: JPEG } }));
  await waitUntil(() => text(seen, 'edgecam/front/motion') === 'ON', 10_000, 'motion ON');
  await waitUntil(() => seen.get('edgecam/front/snapshot')?.equals(JPEG) === true, 10_000, 'the snapshot JPEG');
  expect(JSON.parse(text(seen, 'edgecam/front/event')!)).toMatchObject({ id: 'front-1', phase: 'start', snapshot: '/events/front-1/snapshot.jpg' });
  events$.next(motion('front-1', 'end'));
  await waitUntil(() => text(seen, 'edgecam/front/motion') === 'OFF', 10_000, 'motion OFF');
  await outputs.close();
  await waitUntil(() => text(seen, 'edgecam/status') === 'offline', 10_000, 'edgecam/status offline');
}

describe('MQTT and Home Assistant discovery', () => {
  it('publishes discovery, availability, motion state, event JSON and snapshot (aedes)', async () => {
    const broker = await startAedes();
    await behavesLikeAnEdgecamPublisher(broker.port);
  });

  it('the broker publishes offline, our last will, when the server vanishes', async () => {
    const broker = await startAedes();
    const seen = await watch(broker.port);
    const events$ = new Subject<CameraEvent>();
    const { outputs } = startOutputs(broker.port, events$);
    await waitUntil(() => text(seen, 'edgecam/status') === 'online', 10_000, 'online');
    // Kill the connection without a DISCONNECT, as a crash or a power cut would.
    (outputs.mqtt as unknown as { client: { stream: { destroy(): void }; options: { reconnectPeriod: number } } }).client.options.reconnectPeriod = 0;
    (outputs.mqtt as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    await waitUntil(() => text(seen, 'edgecam/status') === 'offline', 10_000, 'the last will');
  });

  it('reconnects when the broker comes back and publishes discovery and state again', async () => {
    const first = await startAedes();
    const events$ = new Subject<CameraEvent>();
    const { outputs } = startOutputs(first.port, events$);
    await waitUntil(() => outputs.mqtt!.connected, 10_000, 'connected');
    events$.next(motion('front-1', 'start'));
    await first.stop();
    await waitUntil(() => !outputs.mqtt!.connected, 10_000, 'the broker gone');
    // A fresh broker has no retained state: everything must come from us again.
    const second = await startAedes(first.port);
    const seen = await watch(second.port);
    await waitUntil(() => text(seen, 'edgecam/front/motion') === 'ON', 10_000, 'motion state re-published');
    await waitUntil(() => text(seen, 'edgecam/status') === 'online', 10_000, 'online again');
    await waitUntil(() => seen.has('homeassistant/binary_sensor/edgecam_garage/front_motion/config'), 10_000, 'discovery again');
  });

  it.skipIf(!hasMosquitto)('works against Debian mosquitto too', async () => {
    const broker = await startMosquitto();
    await behavesLikeAnEdgecamPublisher(broker.port);
  });
});
