// The session rules with a fake capture and a fake socket: no network, no timing.
import { describe, expect, it } from 'vitest';
import { Observable, Subject } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import type { ClientHandle, ClientMode, FrameHub, SourceInfo } from '../src/contracts.js';
import { ClientSession, type SessionTransport } from '../src/tcp/client-session.js';
import { memoryLogger } from './support/logger.js';

class FakeHub implements FrameHub {
  private readonly subject = new Subject<CapturedFrame>();
  consumers = 0;
  newest: CapturedFrame | undefined;
  private seq = 0;
  readonly frames$ = new Observable<CapturedFrame>((sub) => {
    this.consumers++;
    const inner = this.subject.subscribe(sub);
    return () => {
      inner.unsubscribe();
      this.consumers--;
    };
  });
  emit(): CapturedFrame {
    this.seq++;
    const frame = { seq: this.seq, captureTimeUs: this.seq * 1000, jpeg: Buffer.from([0xff, 0xd8, this.seq, 0xff, 0xd9]) };
    this.newest = frame;
    this.subject.next(frame);
    return frame;
  }
  latest(): CapturedFrame | undefined {
    return this.newest;
  }
  snapshot(): Promise<CapturedFrame> {
    throw new Error('not used by sessions');
  }
  info(): SourceInfo {
    throw new Error('not used by sessions');
  }
}

/** A socket whose writes complete only when the test says the kernel took them. */
class FakeTransport implements SessionTransport {
  readonly written: number[] = []; // seq of each frame written
  private pending: ((err?: Error | null) => void) | null = null;
  writableLength = 0;
  writeFrame(parts: readonly Uint8Array[], done: (err?: Error | null) => void): void {
    expect(this.pending).toBeNull(); // never more than one frame in flight
    this.written.push((parts[1] as Uint8Array)[2] as number);
    this.writableLength = parts.reduce((n, p) => n + p.length, 0);
    this.pending = done;
  }
  flush(): void {
    const done = this.pending;
    this.pending = null;
    this.writableLength = 0;
    done?.();
  }
  get busy(): boolean {
    return this.pending !== null;
  }
}

class FakeHandle implements ClientHandle {
  readonly id = 1;
  modes: ClientMode[] = [];
  sentCount = 0;
  droppedCount = 0;
  closed = false;
  setMode(mode: ClientMode): void {
    this.modes.push(mode);
  }
  sent(): void {
    this.sentCount++;
  }
  dropped(count = 1): void {
    this.droppedCount += count;
  }
  close(): void {
    this.closed = true;
  }
}

function setup() {
  const hub = new FakeHub();
  const transport = new FakeTransport();
  const handle = new FakeHandle();
  const log = memoryLogger();
  let byes = 0;
  const session = new ClientSession({
    hub,
    handle,
    transport,
    encode: (f) => [Buffer.from([0, 0, 0, f.jpeg.length]), f.jpeg],
    logger: log.logger,
    onBye: () => byes++,
    statsIntervalMs: 0,
  });
  const cmd = (s: string) => {
    for (const c of s) session.command(c as '0');
  };
  return { hub, transport, handle, session, cmd, log, byes: () => byes };
}

describe('ClientSession', () => {
  it('answers 0 with the newest frame, once, and stays off the capture when idle', () => {
    const { hub, transport, cmd } = setup();
    hub.emit();
    const newest = hub.emit();
    cmd('0');
    expect(transport.written).toEqual([newest.seq]);
    transport.flush();
    hub.emit();
    expect(transport.written).toEqual([newest.seq]);
    expect(hub.consumers).toBe(0);
  });

  it('waits for the first frame when the capture has none yet', () => {
    const { hub, transport, cmd } = setup();
    cmd('0');
    expect(transport.written).toEqual([]);
    expect(hub.consumers).toBe(1);
    const first = hub.emit();
    expect(transport.written).toEqual([first.seq]);
    expect(hub.consumers).toBe(0);
  });

  it('gives each 0 of a glued 000 its own frame: the newest one each time the socket is free', () => {
    const { hub, transport, cmd } = setup();
    const f1 = hub.emit();
    cmd('000');
    expect(transport.written).toEqual([f1.seq]);
    transport.flush();
    expect(transport.written).toEqual([f1.seq, f1.seq]);
    const f2 = hub.emit(); // arrives while the second is in flight
    transport.flush();
    expect(transport.written).toEqual([f1.seq, f1.seq, f2.seq]);
    transport.flush();
    hub.emit();
    expect(transport.written).toHaveLength(3);
    expect(hub.consumers).toBe(0);
  });

  it('counts 1 as an acknowledgement and never waits for it', () => {
    const { hub, transport, session, cmd } = setup();
    hub.emit();
    cmd('0');
    transport.flush();
    cmd('0');
    expect(transport.written).toHaveLength(2);
    cmd('1');
    expect(session.counters.acks).toBe(1);
  });

  it('streams every new frame after 3 and stops after q', () => {
    const { hub, transport, handle, cmd } = setup();
    cmd('3');
    expect(handle.modes.at(-1)).toBe('streaming');
    const sent: number[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(hub.emit().seq);
      transport.flush();
    }
    expect(transport.written).toEqual(sent);
    cmd('q');
    expect(handle.modes.at(-1)).toBe('idle');
    hub.emit();
    expect(transport.written).toEqual(sent);
    expect(hub.consumers).toBe(0);
  });

  it('ignores 0 while streaming (the seed client sends 30 glued)', () => {
    const { hub, transport, cmd } = setup();
    hub.emit();
    cmd('30');
    expect(transport.written).toEqual([]);
    const f = hub.emit();
    transport.flush();
    expect(transport.written).toEqual([f.seq]);
  });

  it('keeps only the newest frame for a busy socket and counts the ones it skips', () => {
    const { hub, transport, handle, session, cmd } = setup();
    cmd('3');
    const first = hub.emit();
    for (let i = 0; i < 10; i++) hub.emit();
    const newest = hub.emit();
    expect(transport.written).toEqual([first.seq]);
    transport.flush();
    expect(transport.written).toEqual([first.seq, newest.seq]);
    expect(session.counters.dropped).toBe(10);
    expect(handle.droppedCount).toBe(10);
  });

  it('forgets the waiting frame on q, so a following 0 gets the newest one', () => {
    const { hub, transport, cmd } = setup();
    cmd('3');
    hub.emit();
    hub.emit(); // waits in the slot
    cmd('q0');
    const newest = hub.emit();
    transport.flush();
    expect(transport.written.at(-1)).toBe(newest.seq);
    expect(transport.written).toHaveLength(2);
  });

  it('answers a 0 with the stream\'s first frame, or after q if the stream sent none (glued "03q0" on an idle capture)', () => {
    const { hub, transport, cmd } = setup();
    cmd('03');
    const first = hub.emit();
    transport.flush();
    expect(transport.written).toEqual([first.seq]); // one frame answers both
    cmd('q');
    expect(hub.consumers).toBe(0);

    const cold = setup();
    cold.cmd('03q0');
    expect(cold.transport.written).toEqual([]);
    const f1 = cold.hub.emit();
    cold.transport.flush(); // the second 0 gets the newest frame as soon as the socket is free
    cold.transport.flush();
    cold.hub.emit();
    expect(cold.transport.written).toEqual([f1.seq, f1.seq]); // each 0 its own frame, none for the empty stream
    expect(cold.hub.consumers).toBe(0);
  });

  it('ends only itself on 2 and ignores everything after it', () => {
    const { hub, transport, handle, cmd, byes } = setup();
    cmd('3');
    cmd('22');
    expect(byes()).toBe(1);
    expect(handle.closed).toBe(true);
    hub.emit();
    cmd('0');
    expect(transport.written).toEqual([]);
    expect(hub.consumers).toBe(0);
  });

  it('logs an unknown byte once loudly and then quietly, writing nothing', () => {
    const { transport, session, log } = setup();
    session.unknown(0x41);
    session.unknown(0x42);
    expect(transport.written).toEqual([]);
    expect(session.counters.unknownBytes).toBe(2);
    expect(log.lines.filter((l) => l.msg === 'unknown command byte skipped').map((l) => l.level)).toEqual([40, 20]);
  });
});
