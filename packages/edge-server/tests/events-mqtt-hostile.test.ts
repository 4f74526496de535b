// A broker that declares a huge packet (MQTT allows 268 MB) and streams it: mqtt.js would buffer
// it whole. The server ends that connection at the header and reconnects as after any loss.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { pino } from 'pino';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { CameraEvent } from '../src/contracts.js';
import { startEventOutputs, type EventOutputs } from '../src/events/event-outputs.js';
import { eventsConfigSchema } from '../src/events/events-config.js';
import { MAX_INCOMING_MQTT_PACKET, MqttPacketSizeCheck } from '../src/events/mqtt-packet-cap.js';
import { cameraContext } from './support/events.js';
import { waitUntil } from './support/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// CONNACK: type 2, remaining length 2, no session present, return code 0 (accepted).
const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
// PUBLISH, remaining length 268,435,455 (the largest the 4-byte length can say), then its body.
const HUGE_PUBLISH_HEADER = Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]);

describe('MqttPacketSizeCheck', () => {
  it('follows headers across chunks and names the first packet over the cap', () => {
    const check = new MqttPacketSizeCheck(100);
    // A CONNACK, then a PUBACK (type 4, length 2) split after its first byte.
    expect(check.push(Buffer.from([0x20, 0x02, 0x00, 0x00, 0x40]))).toBeNull();
    expect(check.push(Buffer.from([0x02, 0x00, 0x01]))).toBeNull();
    // A PUBLISH of 100 bytes exactly passes, body split over two chunks.
    expect(check.push(Buffer.concat([Buffer.from([0x30, 0x64]), Buffer.alloc(60)]))).toBeNull();
    expect(check.push(Buffer.alloc(40))).toBeNull();
    // 101 bytes, its two-byte length split between chunks: 0xe5 0x00 would be 101 as 0x65.
    expect(check.push(Buffer.from([0x30, 0x80 | 101]))).toBeNull();
    expect(check.push(Buffer.from([0x00]))).toBe(101);
  });

  it('reads the four-byte length of the largest packet', () => {
    expect(new MqttPacketSizeCheck(MAX_INCOMING_MQTT_PACKET).push(HUGE_PUBLISH_HEADER)).toBe(268_435_455);
  });
});

describe('a broker that declares a 268 MB packet', () => {
  it('gets its connection ended at the header, and the server reconnects', async () => {
    let written = 0;
    let connections = 0;
    const closed: boolean[] = [];
    const server: Server = createServer((socket: Socket) => {
      const index = connections++;
      closed[index] = false;
      socket.on('error', () => {});
      socket.on('close', () => (closed[index] = true));
      socket.once('data', () => {
        socket.write(Buffer.concat([CONNACK, HUGE_PUBLISH_HEADER]));
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        const pump = (): void => {
          while (!socket.destroyed && socket.write(chunk)) written += chunk.length;
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    // The lines as written: parsed JSON would hide a key written twice.
    const raw: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void raw.push(line) });
    const outputs: EventOutputs = startEventOutputs({
      config: eventsConfigSchema.parse({ mqtt: { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}` } }),
      cameras: [cameraContext('front')],
      events: { front: new Subject<CameraEvent>() },
      logger,
      serverName: 'garage',
      version: '0.1.0',
      mqttReconnectMs: 100,
    });
    cleanups.push(() => outputs.close());
    await waitUntil(() => closed[0] === true, 15_000, 'the first connection ended by the server');
    await waitUntil(() => connections >= 2, 15_000, 'a reconnect');
    // What the broker got out is what the socket buffers took, not the 268 MB it declared.
    expect(written).toBeLessThan(32 * 1024 * 1024);
    expect(raw.join('')).toContain('more than the 65536 this server takes');
    // Each line names its component once: JSON with a key twice is read differently by different tools.
    expect(raw.filter((line) => (line.match(/"component":/g) ?? []).length > 1)).toEqual([]);
  });
});
