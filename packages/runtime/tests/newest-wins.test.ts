import { describe, expect, it } from 'vitest';
import { NewestWins } from '../src/index.js';

function harness() {
  const delivered: number[] = [];
  const dropped: number[] = [];
  let idle = 0;
  let release: (() => void) | undefined;
  const slot = new NewestWins<number>({
    deliver: (item, done) => {
      delivered.push(item);
      release = done;
    },
    onDrop: (item) => dropped.push(item),
    onIdle: () => idle++,
  });
  return { slot, delivered, dropped, idle: () => idle, release: () => release?.(), current: () => release };
}

describe('NewestWins', () => {
  it('delivers at once while the transport is free', () => {
    const h = harness();
    h.slot.offer(1);
    expect(h.delivered).toEqual([1]);
    expect(h.slot.busy).toBe(true);
  });

  it('keeps only the newest item while one is in flight, counting the replaced ones', () => {
    const h = harness();
    h.slot.offer(1);
    h.slot.offer(2);
    h.slot.offer(3);
    h.slot.offer(4);
    expect(h.delivered).toEqual([1]);
    expect(h.dropped).toEqual([2, 3]);
    expect(h.slot.dropped).toBe(2);
    h.release();
    expect(h.delivered).toEqual([1, 4]);
    h.release();
    expect(h.slot.busy).toBe(false);
    expect(h.idle()).toBe(1);
  });

  it('ignores a second call of the same done', () => {
    const h = harness();
    h.slot.offer(1);
    const first = h.current();
    first?.();
    h.slot.offer(2);
    h.slot.offer(3);
    first?.();
    expect(h.delivered).toEqual([1, 2]);
  });

  it('handles a transport that finishes synchronously', () => {
    const seen: number[] = [];
    const slot = new NewestWins<number>({ deliver: (item, done) => (seen.push(item), done()) });
    for (let i = 0; i < 5; i++) slot.offer(i);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(slot.dropped).toBe(0);
  });

  it('forgets the waiting item on clear without counting it', () => {
    const h = harness();
    h.slot.offer(1);
    h.slot.offer(2);
    h.slot.clear();
    h.release();
    expect(h.delivered).toEqual([1]);
    expect(h.slot.dropped).toBe(0);
  });
});
