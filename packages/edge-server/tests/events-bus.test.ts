import { describe, expect, it } from 'vitest';
// The bus never reads the JPEG: SOI EOI will do.
const TINY_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
import { EventBus } from '../src/camera/event-bus.js';
import { eventsConfigSchema, parseDuration } from '../src/events/events-config.js';
import { motion } from './support/events.js';

const frame = (n: number) => ({ seq: n, captureTimeUs: n, jpeg: TINY_JPEG });

describe('EventBus', () => {
  it('numbers events in order and gives their JSON a snapshot URL instead of the JPEG', () => {
    const bus = new EventBus();
    const seen: number[] = [];
    bus.events$.subscribe((b) => seen.push(b.seq));
    const a = bus.publish(motion('front-1', 'start', { snapshot: frame(1) }));
    bus.publish(motion('front-1', 'end'));
    expect(seen).toEqual([1, 2]);
    expect(bus.json(a)).toEqual({
      id: 'front-1', camera: 'front', type: 'motion', phase: 'start', startedAt: 1_733_070_000_000, score: 0.25,
      snapshot: '/events/front-1/snapshot.jpg',
    });
    expect(bus.snapshot('front-1')?.jpeg).toBe(TINY_JPEG);
  });

  it('keeps a bounded backlog for resume and a bounded store of snapshots', () => {
    const bus = new EventBus({ backlog: 3, snapshots: 2 });
    for (let i = 1; i <= 5; i++) bus.publish(motion(`e${i}`, 'start', { snapshot: frame(i) }));
    expect(bus.since(0).map((b) => b.seq)).toEqual([3, 4, 5]);
    expect(bus.since(4).map((b) => b.seq)).toEqual([5]);
    expect(bus.snapshot('e3')).toBeUndefined();
    expect(bus.snapshot('e5')).toBeDefined();
  });

  it('bounds the snapshot store by bytes as well', () => {
    const bus = new EventBus({ snapshotBytes: TINY_JPEG.length * 2 });
    for (let i = 1; i <= 4; i++) bus.publish(motion(`e${i}`, 'start', { snapshot: frame(i) }));
    expect(['e1', 'e2', 'e3', 'e4'].filter((id) => bus.snapshot(id))).toEqual(['e3', 'e4']);
  });
});

describe('eventsConfigSchema', () => {
  it('fills in the defaults', () => {
    const c = eventsConfigSchema.parse({ webhooks: [{ url: 'http://ha.local/hook' }], mqtt: { url: 'mqtt://broker' }, clips: { dir: '/var/clips' } });
    expect(c.webhooks[0]!.events).toEqual(['start', 'end']);
    expect(c.mqtt).toMatchObject({ discovery: true, discoveryPrefix: 'homeassistant', snapshotInterval: 60_000 });
    // Not one `edgecam` for every server (they overwrote each other's state): edgecam/NAME, from the server's name.
    expect(c.mqtt?.topicPrefix).toBeUndefined();
    expect(c.clips).toMatchObject({ preRoll: 5000, postRoll: 5000 });
  });

  it('names the key and the valid forms of a bad value', () => {
    const r = eventsConfigSchema.safeParse({ webhooks: [{ url: 'ftp://x' }], clips: { dir: 'c', preRoll: 'soon' }, mqtt: { url: 'mqtt://b', tls: 1 } });
    expect(r.success).toBe(false);
    const text = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(text).toContain('webhooks.0.url: must be an http:// or https:// URL');
    expect(text).toContain('clips.preRoll: "soon" is not a duration such as 30s, 10m, 2h or 7d (a bare number is seconds)');
    expect(text).toMatch(/mqtt: .*tls/);
  });

  it('reads durations', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration(1.5)).toBe(1500);
    expect(parseDuration('5 minutes')).toBeUndefined();
  });
});
