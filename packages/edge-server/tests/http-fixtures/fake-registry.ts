// A ClientRegistry and ServerMetrics that record what the HTTP side reports, for tests that
// assert on exact counts without the real metrics in between.
import type {
  ClientHandle,
  ClientMode,
  ClientProtocol,
  ClientRegistry,
  ClientStats,
  ServerMetrics,
} from '../../src/contracts.js';

export class RecordingRegistry implements ClientRegistry {
  private nextId = 1;
  readonly live = new Map<number, ClientStats>();
  /** Every client ever registered, kept after close() so tests can read the final numbers. */
  readonly all: ClientStats[] = [];

  register(init: { protocol: ClientProtocol; address: string }): ClientHandle {
    const stats: ClientStats = {
      id: this.nextId++,
      protocol: init.protocol,
      address: init.address,
      mode: 'idle',
      connectedAt: Date.now(),
      framesSent: 0,
      dropped: 0,
      bytesSent: 0,
      fps: 0,
    };
    this.live.set(stats.id, stats);
    this.all.push(stats);
    return {
      id: stats.id,
      setMode: (mode: ClientMode) => {
        stats.mode = mode;
      },
      sent: (bytes: number) => {
        stats.framesSent += 1;
        stats.bytesSent += bytes;
      },
      dropped: (count = 1) => {
        stats.dropped += count;
      },
      close: () => {
        this.live.delete(stats.id);
      },
    };
  }

  list(): ClientStats[] {
    return [...this.live.values()].map((s) => ({ ...s }));
  }

  count(protocol?: ClientProtocol): number {
    return this.list().filter((s) => protocol === undefined || s.protocol === protocol).length;
  }
}

export class FixedMetrics implements ServerMetrics {
  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';
  constructor(private readonly body = '# HELP edgecam_test_metric A metric\n# TYPE edgecam_test_metric gauge\nedgecam_test_metric 1\n') {}
  text(): Promise<string> {
    return Promise.resolve(this.body);
  }
}
