// What Home Assistant finds on the broker: one device per server, named for the server so that
// two boards never overwrite each other; entities only for what a camera has (the rest removed);
// and a camera picture before the first event.
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { CapturedFrame } from '@edgecam/protocol';
import { DEFAULT_CONFIG } from '../src/config/config.js';
import { defaultServerName } from '../src/config/config-options.js';
import type { CameraEvent, FrameHub } from '../src/contracts.js';
import { startEventOutputs, type EventOutputs, type EventOutputsOptions } from '../src/events/event-outputs.js';
import { eventsConfigSchema, type EventsConfig } from '../src/events/events-config.js';
import { pageUrl } from '../src/http/page-url.js';
import { startEdgeServer } from '../src/server.js';
import { config, refusal } from './support/config.js';
import { cameraContext, manualHub, motion } from './support/events.js';
import { memoryLogger } from './support/logger.js';
import { hasMosquitto, leaveRetained, startAedes, startMosquitto, text, watch } from './support/mqtt.js';
import { PacedSource } from './support/paced-source.js';
import { waitUntil } from './support/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const frame = (seq: number, jpeg: Buffer): CapturedFrame => ({ seq, captureTimeUs: seq, jpeg });
const jpeg = (n: number) => Buffer.from([0xff, 0xd8, n, 0xff, 0xd9]);
const json = (seen: Map<string, Buffer>, topic: string): Record<string, unknown> => JSON.parse(text(seen, topic) ?? 'null') as Record<string, unknown>;

/** Outputs to the broker on `port`, MQTT as `mqtt` adds to the URL. */
function outputs(port: number, o: Partial<EventOutputsOptions> & { mqtt?: Record<string, unknown> }): EventOutputs {
  const { mqtt, ...rest } = o;
  const started = startEventOutputs({
    config: eventsConfigSchema.parse({ mqtt: { url: `mqtt://127.0.0.1:${port}`, ...mqtt } }),
    cameras: [cameraContext('default')],
    logger: memoryLogger('silent').logger,
    serverName: 'garage',
    version: '0.1.0',
    mqttReconnectMs: 100,
    ...rest,
  });
  cleanups.push(() => started.close());
  return started;
}

/** MQTT config with pictures every `ms`, below the schema's one second. */
function quick(port: number, ms: number): EventsConfig {
  const parsed = eventsConfigSchema.parse({ mqtt: { url: `mqtt://127.0.0.1:${port}` } });
  return { ...parsed, mqtt: { ...parsed.mqtt!, snapshotInterval: ms } };
}

describe('the server name', () => {
  it('defaults to the machine name, lowercase, anything but a-z, 0-9, _ and - as _', () => {
    expect(defaultServerName('Pi-Garage.Local')).toBe('pi-garage_local');
    expect(defaultServerName('')).toBe('edgecam');
    expect(config([]).name).toBe(defaultServerName());
  });

  it('is --name, EDGECAM_NAME or name:, and refuses what a topic or an id could not hold as it is', () => {
    expect(config(['--name', 'garage']).name).toBe('garage');
    expect(config([], { EDGECAM_NAME: 'porch_2' }).name).toBe('porch_2');
    expect(refusal(['--name', 'Garage door'])).toBe('--name: expected lowercase letters, digits, _ and -, up to 64 (e.g. garage), got "Garage door"');
    expect(refusal(['--name', 'a/b'])).toMatch(/^--name: /);
  });
});

describe('Home Assistant discovery', () => {
  it.skipIf(!hasMosquitto)('makes two servers on one broker (mosquitto) two devices that share no topic and no id', async () => {
    const broker = await startMosquitto();
    const seen = await watch(broker.port);
    const garage$ = new Subject<CameraEvent>();
    const garage = outputs(broker.port, { serverName: 'garage', events: { default: garage$ } });
    outputs(broker.port, { serverName: 'porch', events: { default: new Subject<CameraEvent>() } });
    const sensor = (server: string) => `homeassistant/binary_sensor/edgecam_${server}/default_motion/config`;
    const camera = (server: string) => `homeassistant/camera/edgecam_${server}/default/config`;
    await waitUntil(() => ['garage', 'porch'].every((s) => seen.get(sensor(s))?.length && seen.get(camera(s))?.length), 10_000, 'both servers discovered');
    await waitUntil(() => text(seen, 'edgecam/garage/status') === 'online' && text(seen, 'edgecam/porch/status') === 'online', 10_000, 'both online');

    for (const server of ['garage', 'porch']) {
      const device = { identifiers: [`edgecam_${server}`], name: `edgecam ${server}` };
      expect(json(seen, sensor(server))).toMatchObject({
        unique_id: `edgecam_${server}_default_motion`,
        state_topic: `edgecam/${server}/default/motion`,
        json_attributes_topic: `edgecam/${server}/default/event`,
        availability_topic: `edgecam/${server}/status`,
        device,
      });
      expect(json(seen, camera(server))).toMatchObject({
        unique_id: `edgecam_${server}_default_camera`,
        topic: `edgecam/${server}/default/snapshot`,
        availability_topic: `edgecam/${server}/status`,
        device,
      });
    }
    expect(text(seen, 'edgecam/status')).toBeUndefined();

    // One server's motion and its going offline are its own.
    garage$.next(motion('default-1', 'start', { camera: 'default' }));
    await waitUntil(() => text(seen, 'edgecam/garage/default/motion') === 'ON', 10_000, 'garage motion ON');
    expect(text(seen, 'edgecam/porch/default/motion')).toBe('OFF');
    await garage.close();
    await waitUntil(() => text(seen, 'edgecam/garage/status') === 'offline', 10_000, 'garage offline');
    expect(text(seen, 'edgecam/porch/status')).toBe('online');
  });

  it('gives a camera without a detector no motion sensor, and removes the one an earlier run left (aedes)', async () => {
    const broker = await startAedes();
    const left = {
      'homeassistant/binary_sensor/edgecam_garage/back_door_motion/config': '{"name":"back door motion"}',
      // From before servers had names: every server published under edgecam_edgecam_server.
      'homeassistant/binary_sensor/edgecam_edgecam_server/front_motion/config': '{"name":"front motion"}',
      'homeassistant/camera/edgecam_edgecam_server/front/config': '{"name":"front"}',
    };
    await leaveRetained(broker.port, left);
    const seen = await watch(broker.port);
    await waitUntil(() => Object.keys(left).every((t) => seen.has(t)), 10_000, 'the earlier run’s configs');
    outputs(broker.port, { cameras: [cameraContext('front'), cameraContext('back door')], events: { front: new Subject<CameraEvent>() } });
    await waitUntil(() => Object.keys(left).every((t) => seen.get(t)?.length === 0), 10_000, 'the earlier configs removed');
    expect(json(seen, 'homeassistant/binary_sensor/edgecam_garage/front_motion/config')).toMatchObject({ device_class: 'motion' });
    // Pictures are on (the default), so both cameras keep a camera entity.
    expect(json(seen, 'homeassistant/camera/edgecam_garage/back_door/config')).toMatchObject({ topic: 'edgecam/garage/back door/snapshot' });
    expect(text(seen, 'edgecam/garage/back door/motion')).toBeUndefined();

    // A newcomer (Home Assistant starting) gets only what the server has now.
    const fresh = await watch(broker.port, 'homeassistant/#');
    const now = [
      'homeassistant/binary_sensor/edgecam_garage/front_motion/config',
      'homeassistant/camera/edgecam_garage/back_door/config',
      'homeassistant/camera/edgecam_garage/front/config',
    ];
    await waitUntil(() => now.every((t) => fresh.has(t)), 10_000, 'the retained configs');
    expect([...fresh.keys()].sort()).toEqual(now);
  });

  it('with pictures off, gives a camera without a detector no camera entity either, and removes it', async () => {
    const broker = await startAedes();
    const earlier = 'homeassistant/camera/edgecam_garage/back_door/config';
    await leaveRetained(broker.port, { [earlier]: '{"name":"back door"}' });
    const seen = await watch(broker.port);
    await waitUntil(() => seen.has(earlier), 10_000, 'the earlier camera config');
    outputs(broker.port, { cameras: [cameraContext('front'), cameraContext('back door')], events: { front: new Subject<CameraEvent>() }, mqtt: { snapshotInterval: 'off' } });
    await waitUntil(() => seen.get(earlier)?.length === 0, 10_000, 'the camera entity removed');
    expect(seen.get('homeassistant/binary_sensor/edgecam_garage/back_door_motion/config')?.length).toBe(0);
    // The camera with a detector keeps its entity: its events bring pictures.
    expect(json(seen, 'homeassistant/camera/edgecam_garage/front/config')).toMatchObject({ topic: 'edgecam/garage/front/snapshot' });
  });

  it('links the device to the server page', async () => {
    const broker = await startAedes();
    const seen = await watch(broker.port);
    outputs(broker.port, { pageUrl: 'http://garage.local:8080/' });
    const topic = 'homeassistant/camera/edgecam_garage/default/config';
    await waitUntil(() => Boolean(seen.get(topic)?.length), 10_000, 'discovery');
    expect(json(seen, topic)).toMatchObject({ device: { configuration_url: 'http://garage.local:8080/' } });
  });

  it('makes the page URL a browser elsewhere on the LAN opens', () => {
    expect(pageUrl('0.0.0.0', 8080, false, 'Garage')).toBe('http://garage.local:8080/');
    expect(pageUrl('::', 8443, true, 'cam.example.lan')).toBe('https://cam.example.lan:8443/');
    expect(pageUrl('192.168.1.20', 8080, false, 'garage')).toBe('http://192.168.1.20:8080/');
    expect(pageUrl('fd00::20', 8080, false, 'garage')).toBe('http://[fd00::20]:8080/');
  });
});

describe('camera pictures over MQTT', () => {
  it('publishes each camera’s picture at connect, before any event', async () => {
    const broker = await startAedes();
    const seen = await watch(broker.port);
    const hub = manualHub();
    hub.push(frame(1, jpeg(1)));
    outputs(broker.port, { cameras: [cameraContext('default', hub)] });
    // The default interval is a minute: this one is the connect's.
    await waitUntil(() => seen.get('edgecam/garage/default/snapshot')?.equals(jpeg(1)) === true, 10_000, 'the first picture');
  });

  it('publishes a new picture every snapshotInterval', async () => {
    const broker = await startAedes();
    const seen = await watch(broker.port);
    const hub = manualHub();
    hub.push(frame(1, jpeg(1)));
    // The schema takes a second at least; the output takes what it is given.
    outputs(broker.port, { cameras: [cameraContext('default', hub)], config: quick(broker.port, 50) });
    await waitUntil(() => seen.get('edgecam/garage/default/snapshot')?.equals(jpeg(1)) === true, 10_000, 'the first picture');
    hub.push(frame(2, jpeg(2)));
    await waitUntil(() => seen.get('edgecam/garage/default/snapshot')?.equals(jpeg(2)) === true, 10_000, 'a timed picture');
    hub.push(frame(3, jpeg(3)));
    await waitUntil(() => seen.get('edgecam/garage/default/snapshot')?.equals(jpeg(3)) === true, 10_000, 'the next one');
  });

  it('logs a camera that gives no picture once per reason, not once per try', async () => {
    const broker = await startAedes();
    let tries = 0;
    const failing: FrameHub = {
      ...manualHub(),
      snapshot: () => {
        tries++;
        return Promise.reject(new Error(tries < 4 ? 'no frame from v4l2:/dev/video0 within 10000 ms' : 'the capture is shut down'));
      },
    };
    const log = memoryLogger('info');
    outputs(broker.port, { cameras: [cameraContext('default', failing)], config: quick(broker.port, 20), logger: log.logger });
    await waitUntil(() => tries >= 6, 10_000, 'six tries');
    const warned = log.lines.filter((l) => l.msg === 'no camera picture for MQTT; trying again at the next one').map((l) => l.err);
    expect(warned).toEqual(['no frame from v4l2:/dev/video0 within 10000 ms', 'the capture is shut down']);
  });

  it('refuses an interval under a second, and takes off and 0 for none', () => {
    const interval = (v: unknown) => eventsConfigSchema.safeParse({ mqtt: { url: 'mqtt://b', snapshotInterval: v } });
    expect(interval('500ms').success).toBe(false);
    expect(interval('off').data?.mqtt?.snapshotInterval).toBe(0);
    expect(interval(0).data?.mqtt?.snapshotInterval).toBe(0);
    expect(interval('5m').data?.mqtt?.snapshotInterval).toBe(300_000);
    expect(eventsConfigSchema.parse({ mqtt: { url: 'mqtt://b' } }).mqtt?.snapshotInterval).toBe(60_000);
  });
});

describe('a running server on the broker', () => {
  it('is the device its name says, with a camera entity that has a picture and no motion sensor without motion:', async () => {
    const broker = await startAedes();
    const seen = await watch(broker.port);
    const server = await startEdgeServer(
      {
        ...DEFAULT_CONFIG,
        host: '127.0.0.1',
        port: 0,
        http: false,
        name: 'porch',
        events: eventsConfigSchema.parse({ mqtt: { url: `mqtt://127.0.0.1:${broker.port}` } }),
      },
      { logger: memoryLogger('silent').logger, source: new PacedSource([jpeg(7)], { fps: 5, width: 16, height: 8 }) },
    );
    cleanups.push(() => server.close());
    await waitUntil(() => text(seen, 'edgecam/porch/status') === 'online', 10_000, 'online');
    await waitUntil(() => seen.get('edgecam/porch/default/snapshot')?.equals(jpeg(7)) === true, 10_000, 'the camera picture');
    expect(json(seen, 'homeassistant/camera/edgecam_porch/default/config')).toMatchObject({
      unique_id: 'edgecam_porch_default_camera',
      device: { identifiers: ['edgecam_porch'], name: 'edgecam porch' },
    });
    expect(seen.get('homeassistant/binary_sensor/edgecam_porch/default_motion/config')?.length).toBe(0);
  });
});
