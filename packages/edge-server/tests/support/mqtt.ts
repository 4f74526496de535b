// Brokers for the MQTT tests: aedes in-process, Debian's mosquitto as a child, and a watcher that
// keeps the newest payload per topic. Each is stopped when the test that started it finishes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { onTestFinished } from 'vitest';
import { sleep } from './wait.js';

export interface Broker {
  port: number;
  stop(): Promise<void>;
}

/** aedes in-process on loopback; `port` reuses a port (a broker coming back). */
export async function startAedes(port = 0): Promise<Broker> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const stop = async () => {
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  };
  onTestFinished(() => (server.listening ? stop() : undefined));
  return { port: (server.address() as AddressInfo).port, stop };
}

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const hasMosquitto = existsSync(MOSQUITTO);

/** Debian's mosquitto on a free loopback port, once it takes connections. */
export async function startMosquitto(): Promise<Broker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  onTestFinished(stop);
  await untilConnectable(port, 10_000);
  return { port, stop };
}

/** A watcher subscribed to everything, keeping the newest payload per topic. */
export async function watch(port: number, filter = '#'): Promise<Map<string, Buffer>> {
  const seen = new Map<string, Buffer>();
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 100 });
  onTestFinished(() => client.endAsync(true));
  client.on('message', (topic, payload) => seen.set(topic, payload));
  client.on('connect', () => void client.subscribe(filter));
  await client.subscribeAsync(filter);
  return seen;
}

/** Publishes retained messages, as an earlier run (or another server) left them, and disconnects. */
export async function leaveRetained(port: number, messages: Record<string, string>): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  try {
    for (const [topic, payload] of Object.entries(messages)) await client.publishAsync(topic, payload, { retain: true, qos: 1 });
  } finally {
    await client.endAsync();
  }
}

export const text = (seen: Map<string, Buffer>, topic: string): string | undefined => seen.get(topic)?.toString();

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function untilConnectable(port: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 1000 }, false);
      await c.endAsync(true);
      return;
    } catch (err) {
      if (performance.now() > deadline) throw new Error(`mosquitto did not take connections on ${port} within ${timeoutMs} ms: ${(err as Error).message}`);
      await sleep(50);
    }
  }
}
