// The legacy and v2 readers as operators: chunks in, frames out, every way a stream ends as one sentence.
import { from, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { encodeErrorMessage, encodeFrame, encodeFrameMessage, type CapturedFrame } from '@edgecam/protocol';
import { CliError, ExitCode } from '../src/errors.js';
import { readLegacyFrames } from '../src/legacy-reader.js';
import { readV2Messages, v2Frames } from '../src/v2-reader.js';

const jpeg = (n: number) => Buffer.from([0xff, 0xd8, n, n, n, 0xff, 0xd9]);
const legacy = (firstCommandAt?: number) =>
  readLegacyFrames({ address: '127.0.0.1:6810', maxFrameBytes: 1024, overTls: false, firstCommandAt: () => firstCommandAt });

/** The frames a stream gives, and the CliError it ends with (a reader never just completes). */
function collect(frames$: Observable<CapturedFrame>): { frames: CapturedFrame[]; done: Promise<CliError> } {
  const frames: CapturedFrame[] = [];
  const done = new Promise<CliError>((resolve, reject) =>
    frames$.subscribe({
      next: (f) => frames.push(f),
      error: (e: unknown) => (e instanceof CliError ? resolve(e) : reject(e as Error)),
      complete: () => reject(new Error('the stream completed')),
    }),
  );
  return { frames, done };
}

async function run(frames$: Observable<CapturedFrame>): Promise<{ error: CliError }> {
  return { error: await collect(frames$).done };
}

describe('the legacy reader', () => {
  it('returns a frame split across three chunks, numbered from 0, and calls the end a close', async () => {
    const bytes = Buffer.concat([...encodeFrame(jpeg(1)), ...encodeFrame(jpeg(2))]);
    const { frames, done } = collect(from([bytes.subarray(0, 3), bytes.subarray(3, 9), bytes.subarray(9)]).pipe(legacy()));
    const err = await done;
    expect(frames.map((f) => [f.seq, f.jpeg])).toEqual([[0, jpeg(1)], [1, jpeg(2)]]);
    expect(err.message).toBe('the server closed the connection');
  });

  it('counts the bytes of a frame cut short', async () => {
    const [header, body] = encodeFrame(jpeg(1));
    const { frames, done } = collect(from([header, Buffer.from(body).subarray(0, 3)]).pipe(legacy()));
    const err = await done;
    expect(frames).toEqual([]);
    expect(err.exitCode).toBe(ExitCode.CONNECTION);
    expect(err.message).toBe('the connection was cut in the middle of a frame (7 bytes of it had arrived)');
  });

  it('quotes the text a seed server answers with', async () => {
    const { error } = await run(from([Buffer.from('Unknown command\n')]).pipe(legacy()));
    expect(error.message).toBe('the server sent text instead of a frame: "Unknown command"');
  });

  it('refuses a frame over the limit from its header alone', async () => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(5000);
    const { error } = await run(from([Buffer.concat([header, Buffer.from([0xff, 0x00, 0x01])])]).pipe(legacy()));
    expect(error.exitCode).toBe(ExitCode.PROTOCOL);
    expect(error.message).toBe('the server announced a frame of 5000 bytes, over the limit of 1024 bytes; refusing it');
  });

  it('reads a close right after the first command, without a byte, as a refusal', async () => {
    const { error } = await run(from([] as Buffer[]).pipe(legacy(performance.now())));
    expect(error.message).toMatch(/^the server closed the connection without sending anything \(a server with a token refuses legacy clients/);
  });
});

describe('the v2 reader', () => {
  it('gives frames with the server\'s sequence numbers and capture times', async () => {
    const bytes = Buffer.concat([...encodeFrameMessage(7, 1_000_000, jpeg(1)), ...encodeFrameMessage(9, 1_033_333, jpeg(2))]);
    const { frames, done } = collect(from([bytes.subarray(0, 20), bytes.subarray(20)]).pipe(readV2Messages({ maxFrameBytes: 1024 }), v2Frames()));
    expect((await done).message).toBe('the server closed the connection');
    expect(frames.map((f) => [f.seq, f.captureTimeUs, f.jpeg])).toEqual([
      [7, 1_000_000, jpeg(1)],
      [9, 1_033_333, jpeg(2)],
    ]);
  });

  it('ends the session with the server\'s ERROR', async () => {
    const bytes = encodeErrorMessage({ code: 'IDLE_TIMEOUT', message: 'nothing from you for 600 s' });
    const { error } = await run(from([bytes]).pipe(readV2Messages({ maxFrameBytes: 1024 }), v2Frames()));
    expect(error.message).toBe('the server ended the session: nothing from you for 600 s (IDLE_TIMEOUT)');
  });

  it('goes on after a non-fatal SOURCE_UNAVAILABLE, handing its reason to onNotice', async () => {
    const notices: string[] = [];
    const bytes = Buffer.concat([
      encodeErrorMessage({ code: 'SOURCE_UNAVAILABLE', message: 'the camera is gone\u001b[2J' }),
      ...encodeFrameMessage(3, 1_000_000, jpeg(1)),
    ]);
    const { frames, done } = collect(from([bytes]).pipe(readV2Messages({ maxFrameBytes: 1024 }), v2Frames((m) => notices.push(m))));
    expect((await done).message).toBe('the server closed the connection');
    expect(frames.map((f) => f.seq)).toEqual([3]);
    expect(notices).toEqual(['the camera is gone\\x1b[2J']);
  });

  it('counts the bytes of a message cut short', async () => {
    const [header] = encodeFrameMessage(1, 1, jpeg(1));
    const { error } = await run(from([header]).pipe(readV2Messages({ maxFrameBytes: 1024 }), v2Frames()));
    expect(error.exitCode).toBe(ExitCode.CONNECTION);
    expect(error.message).toBe('the connection was cut in the middle of a message (17 bytes of it had arrived)');
  });

  it('quotes text where a message should be', async () => {
    const { error } = await run(from([Buffer.from('Unknown command')]).pipe(readV2Messages({ maxFrameBytes: 1024 }), v2Frames()));
    expect(error.exitCode).toBe(ExitCode.PROTOCOL);
    expect(error.message).toBe('the server sent text instead of a v2 message: "Unknown command"');
  });
});
