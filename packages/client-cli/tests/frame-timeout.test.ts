import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import type { CapturedFrame } from '@edgecam/protocol';
import { frameTimeout } from '../src/frame-timeout.js';
import { CliError } from '../src/errors.js';

const frame = { jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) } as unknown as CapturedFrame;

describe('frameTimeout', () => {
  it('lets a steady stream through and fails once it has been quiet for the timeout', async () => {
    const frames = new Subject<CapturedFrame>();
    let passed = 0;
    let quietSince = 0;
    const failed = new Promise<unknown>((resolve) =>
      frames.pipe(frameTimeout(300)).subscribe({ next: () => passed++, error: resolve }),
    );
    // Twenty frames 50 ms apart: a second and more in all, well past the 300 ms timeout.
    for (let i = 0; i < 20; i++) {
      frames.next(frame);
      await new Promise((r) => setTimeout(r, 50));
    }
    quietSince = performance.now();
    const err = await failed;
    expect(passed).toBe(20);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toBe('no frame arrived within 0.3 s (see --timeout)');
    // It fired no sooner than the timeout after the last frame (minus the 50 ms already waited).
    expect(performance.now() - quietSince).toBeGreaterThanOrEqual(300 - 50 - 1);
  });

  it('gives the first frame its own budget and names the server\'s reason when the camera is down', async () => {
    const frames = new Subject<CapturedFrame>();
    const err = await new Promise<unknown>((resolve) =>
      frames.pipe(frameTimeout(5000, 20, { sourceDown: 'ffmpeg exited' })).subscribe({ error: resolve }),
    );
    expect((err as Error).message).toMatch(/^no frame arrived within 5 s: the server's camera is down \(ffmpeg exited\)/);
  });

  it('stops its timer when unsubscribed, and passes on completion', async () => {
    const frames = new Subject<CapturedFrame>();
    const done = new Promise<string>((resolve) =>
      frames.pipe(frameTimeout(50)).subscribe({ complete: () => resolve('complete'), error: () => resolve('error') }),
    );
    frames.next(frame);
    frames.complete();
    expect(await done).toBe('complete');
    const sub = new Subject<CapturedFrame>().pipe(frameTimeout(20)).subscribe({ error: () => expect.fail('errored after unsubscribe') });
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 60));
    expect(sub.closed).toBe(true);
  });
});
