// The byte-to-JPEG operators the sources pipe their chunks through.
import { Subject, firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EdgeServerError } from '../src/errors.js';
import { JpegSplitter } from '../src/sources/jpeg-splitter.js';
import { FrameStamper, stampFrames } from '../src/sources/source.js';
import { splitJpegs, splitMpjpeg, type ArrivedJpeg } from '../src/sources/split-frames.js';

const JPEG_A = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
const JPEG_B = Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x03, 0x42, 0xff, 0xd9]);

function part(jpeg: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`Content-type: image/jpeg\r\nContent-length: ${jpeg.length}\r\n\r\n`), jpeg, Buffer.from('\r\n--ffmpeg\r\n')]);
}

describe('splitMpjpeg', () => {
  it('turns mpjpeg chunks into whole JPEGs, each with the arrival time of the chunk that completed it', async () => {
    const stream = Buffer.concat([Buffer.from('--ffmpeg\r\n'), part(JPEG_A), part(JPEG_B)]);
    const chunks = [stream.subarray(0, 20), stream.subarray(20, 70), stream.subarray(70)];
    const out = await firstValueFrom(from(chunks).pipe(splitMpjpeg(), toArray()));
    expect(out.map((j) => j.jpeg)).toEqual([JPEG_A, JPEG_B]);
    expect(out.every((j) => j.arrivalUs > 1.6e15)).toBe(true);
  });

  it('ends the stream with the decoder\'s coded error on malformed input', async () => {
    const bad = Buffer.from('--ffmpeg\r\nContent-length: lots\r\n\r\n');
    await expect(firstValueFrom(from([bad]).pipe(splitMpjpeg(), toArray()))).rejects.toMatchObject({ code: 'MPJPEG_BAD_LENGTH' });
  });

  it('with onMalformed, reports the error and resynchronises at the next part', async () => {
    const errors: Error[] = [];
    const bad = Buffer.from('--ffmpeg\r\nContent-length: lots\r\n\r\n');
    const good = Buffer.concat([Buffer.from('--ffmpeg\r\n'), part(JPEG_A)]);
    const out = await firstValueFrom(from([bad, good]).pipe(splitMpjpeg({ onMalformed: (e) => errors.push(e) }), toArray()));
    expect(errors[0]).toBeInstanceOf(EdgeServerError);
    expect(out.map((j) => j.jpeg)).toEqual([JPEG_A]);
  });
});

describe('splitJpegs', () => {
  it('splits concatenated JPEGs and reports dropped corrupt frames', async () => {
    const dropped: number[] = [];
    const corrupt = Buffer.from([0xff, 0xd8, 0x00, 0x01]);
    const out = await firstValueFrom(from([Buffer.concat([JPEG_A, corrupt]), JPEG_B]).pipe(splitJpegs({ onDropped: (n) => dropped.push(n) }), toArray()));
    expect(out.map((j) => j.jpeg)).toEqual([JPEG_A, JPEG_B]);
    expect(dropped).toEqual([1]);
  });

  it('keeps a given splitter\'s state across subscriptions, so a frame may span them', () => {
    const splitter = new JpegSplitter();
    const seen: Buffer[] = [];
    const first = new Subject<Buffer>();
    const s1 = first.pipe(splitJpegs({ splitter })).subscribe((j) => seen.push(j.jpeg));
    first.next(JPEG_B.subarray(0, 5));
    s1.unsubscribe();
    const second = new Subject<Buffer>();
    second.pipe(splitJpegs({ splitter })).subscribe((j) => seen.push(j.jpeg));
    second.next(JPEG_B.subarray(5));
    expect(seen).toEqual([JPEG_B]);
  });
});

describe('stampFrames', () => {
  it('numbers JPEGs and keeps capture times strictly increasing; skips parts that are no JPEG', async () => {
    let invalid = 0;
    const jpegs: ArrivedJpeg[] = [
      { jpeg: JPEG_A, arrivalUs: 1000 },
      { jpeg: Buffer.from('nope'), arrivalUs: 1000 },
      { jpeg: JPEG_B, arrivalUs: 1000 },
    ];
    const out = await firstValueFrom(from(jpegs).pipe(stampFrames(new FrameStamper(), () => invalid++), toArray()));
    expect(out.map((f) => [f.seq, f.captureTimeUs])).toEqual([
      [1, 1000],
      [2, 1001],
    ]);
    expect(invalid).toBe(1);
  });
});
