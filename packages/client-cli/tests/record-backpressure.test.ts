// `record --frames N` against a disk slower than the network: the client stops reading the socket
// while the recorder's queue is full (TCP backpressure), loses none of the frames it received, and
// N means N frames in the file.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { inspect, type RecorderFs } from '@edgecam/recorder';
import { RecordSession } from '../src/record-session.js';
import { cleanupsAfterEach } from './cleanups.js';
import { startFakeV2Server } from './fake-v2-server.js';
import { tempDir } from './run-cli.js';
import { testFrames } from './test-frames.js';
import { waitFor } from './wait-for.js';

const cleanups = cleanupsAfterEach();

/** A disk whose writes wait until open() is called. */
function stuckDisk(): { fs: RecorderFs; open: () => void; writes: () => number } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let writes = 0;
  return {
    open: release,
    writes: () => writes,
    fs: {
      async open(path) {
        const handle = await open(path, 'w');
        return {
          writev: async (buffers, position) => {
            writes++;
            await gate;
            return handle.writev(buffers, position);
          },
          truncate: (n) => handle.truncate(n),
          datasync: () => handle.datasync(),
          close: () => handle.close(),
        };
      },
    },
  };
}

describe('record with a disk slower than the network', () => {
  it('writes exactly --frames frames and drops none it received', async () => {
    const v2 = await startFakeV2Server({ frames: testFrames(), fps: 500 });
    cleanups.push(() => v2.close());
    const disk = stuckDisk();
    const path = join(tempDir(), 'slow.avi');
    const log = pino({ level: 'silent' });
    const session = new RecordSession({
      connect: { host: '127.0.0.1', port: v2.port, protocol: 'v2', timeoutMs: 60_000 },
      timeoutMs: 60_000,
      maxFrames: 40,
      durationMs: undefined,
      reconnect: false,
      recording: { path, format: 'avi', segment: undefined, log, tuning: { fs: disk.fs, maxQueueFrames: 4 } },
      signal: new AbortController().signal,
      log,
    });
    const result = session.run();
    // The server has sent far more than the queue holds while the disk is stuck.
    await waitFor(() => disk.writes() > 0 && v2.framesSent() > 60, 'frames piling up behind a stuck disk', 20_000);
    disk.open();
    const r = await result;
    expect(r.error).toBeUndefined();
    expect(r.stoppedBy).toBe('frames');
    expect(r.outcome).toMatchObject({ files: [path], frames: 40 });
    expect(r.stats.rejected).toBe(0);
    expect(r.stats.dropped).toBe(0);
    expect(await inspect(path)).toMatchObject({ frames: 40, problems: [] });
  });
});
