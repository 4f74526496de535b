#!/usr/bin/env node
// Encode benchmark (issue 18): what our capture path's JPEG encode costs per frame, against
// libjpeg-turbo (OpenCV's cv2.imencode, what the seed used) on the same raw 1280x720 frames at a
// matched quality.
//
// Once: a raw clip of testsrc2 with temporal noise (camera-like), as yuv420p (what a capture
// hands ffmpeg's encoder) and as bgr24 (what OpenCV encodes from).
// Each run, alternating:
//   - ffmpeg: `ffmpeg -benchmark -f rawvideo -i clip -c:v mjpeg ARGS -f null -`, CPU time
//     (user + system, all threads) from -benchmark. The same command with `-c:v rawvideo` (read
//     and copy only) is subtracted, so what is left is the encode (with the range conversion
//     to yuvj420p the encoder needs). ARGS are ffmpeg-args.ts's, and the old ones for "before".
//   - libjpeg-turbo: python3 with cv2, process CPU time around cv2.imencode over the same frames
//     (its BGR to YCbCr conversion included; the frames are already in memory).
// Quality is matched by file size: OpenCV's quality is the one whose mean JPEG is closest to
// ffmpeg's at --quality 80; SSIM of both against the raw source (ffmpeg's ssim filter) is reported.
// The capture path as run (testsrc2 drawn and encoded in one ffmpeg) is measured against the
// pattern alone, so the pattern's own cost is kept apart from the encode.
// The ratio is libjpeg-turbo's CPU per frame / ours, per run, median (>= 1: on par or better).
//
// Usage: node tools/bench/encode.mjs [--quick] [--json]
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { qualityToQscale, resolveFfmpeg } from '@edgecam/edge-server';
import { withTempDir } from './support/setup.mjs';
import { ratioOf, round, runStandalone, stats } from './support/stats.mjs';

const exec = promisify(execFile);
const W = 1280;
const H = 720;
const QUALITY = 80; // edgecam-server's default --quality
const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import cv2'], { stdio: 'ignore' }).status === 0);

/** CPU ms (user + system) that `ffmpeg -benchmark ARGS -f null -` reports. */
async function ffmpegCpuMs(ffmpeg, args) {
  const { stderr } = await exec(ffmpeg, ['-hide_banner', '-nostdin', '-benchmark', ...args, '-f', 'null', '-'], { timeout: 300_000 });
  const m = /utime=([\d.]+)s stime=([\d.]+)s/.exec(stderr);
  if (!m) throw new Error(`ffmpeg -benchmark printed no times: ${stderr.slice(-300)}`);
  return (Number(m[1]) + Number(m[2])) * 1000;
}

const PY = `
import sys, time, cv2, numpy as np
mode, path, w, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
frames = np.fromfile(path, dtype=np.uint8).reshape(-1, h, w, 3)
if mode == 'size':
    # mean JPEG size at each quality, then write the clip at the requested one
    for q in range(5, 101, 5):
        print(q, sum(len(cv2.imencode('.jpg', f, [cv2.IMWRITE_JPEG_QUALITY, q])[1]) for f in frames[:10]) / 10)
elif mode == 'write':
    q = int(sys.argv[5])
    with open(sys.argv[6], 'wb') as out:
        for f in frames: out.write(cv2.imencode('.jpg', f, [cv2.IMWRITE_JPEG_QUALITY, q])[1].tobytes())
else:
    q = int(sys.argv[5])
    cv2.setNumThreads(1)
    t = time.process_time()
    for f in frames: cv2.imencode('.jpg', f, [cv2.IMWRITE_JPEG_QUALITY, q])
    print((time.process_time() - t) * 1000)
`;

async function py(...args) {
  const { stdout } = await exec(PYTHON, ['-c', PY, ...args.map(String)], { timeout: 300_000, maxBuffer: 1 << 20 });
  return stdout.trim();
}

async function ssim(ffmpeg, mjpeg, rawYuv) {
  const { stderr } = await exec(ffmpeg, [
    '-hide_banner', '-nostdin', '-i', mjpeg, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-i', rawYuv,
    '-lavfi', '[0:v]format=yuv420p[a];[a][1:v]ssim', '-f', 'null', '-',
  ], { timeout: 300_000 });
  const m = /SSIM .*All:([\d.]+)/.exec(stderr);
  return m ? Number(m[1]) : NaN;
}

/** Runs the benchmark and resolves to the BenchResult that tools/bench/run.mjs expects. */
export async function run({ quick = false } = {}) {
  if (!PYTHON) throw new Error('encode.mjs needs python3 with OpenCV (Debian: apt-get install python3-opencv)');
  const ffmpeg = resolveFfmpeg().path;
  const frames = quick ? 15 : 60;
  const runs = quick ? 1 : 5;
  const qscale = String(qualityToQscale(QUALITY));
  return withTempDir('encode', async (dir) => {
    const yuv = join(dir, 'clip.yuv');
    const yuvj = join(dir, 'clip-full-range.yuv');
    const bgr = join(dir, 'clip.bgr');
    const src = `testsrc2=size=${W}x${H}:rate=30,noise=alls=8:allf=t`;
    await exec(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', src, '-frames:v', String(frames), '-pix_fmt', 'yuv420p', '-f', 'rawvideo', yuv]);
    await exec(ffmpeg, ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-i', yuv, '-pix_fmt', 'bgr24', '-f', 'rawvideo', bgr]);
    await exec(ffmpeg, ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-i', yuv, '-pix_fmt', 'yuvj420p', '-f', 'rawvideo', yuvj]);
    const rawIn = (pixFmt, path) => ['-f', 'rawvideo', '-pix_fmt', pixFmt, '-s', `${W}x${H}`, '-i', path];
    const oldEncode = ['-c:v', 'mjpeg', '-q:v', qscale];
    const newEncode = [...oldEncode, '-huffman', 'default', '-thread_type', 'slice'];

    // Quality matched by size: ffmpeg's mean JPEG at --quality 80, OpenCV's closest quality.
    const oursMjpeg = join(dir, 'ours.mjpeg');
    await exec(ffmpeg, ['-v', 'error', ...rawIn('yuv420p', yuv), ...newEncode, '-f', 'mjpeg', oursMjpeg]);
    const oursMean = statSync(oursMjpeg).size / frames;
    const sizes = (await py('size', bgr, W, H)).split('\n').map((l) => l.split(' ').map(Number));
    const [cvQuality, cvMean] = sizes.reduce((best, s) => (Math.abs(s[1] - oursMean) < Math.abs(best[1] - oursMean) ? s : best));
    const cvMjpeg = join(dir, 'cv.mjpeg');
    await py('write', bgr, W, H, cvQuality, cvMjpeg);
    const [ssimOurs, ssimCv] = [await ssim(ffmpeg, oursMjpeg, yuv), await ssim(ffmpeg, cvMjpeg, yuv)];

    const pattern = (enc) => ['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=30${enc === 'new' ? ',format=yuvj420p' : ''}`, '-frames:v', String(frames)];
    const steps = {
      readYuv: () => ffmpegCpuMs(ffmpeg, [...rawIn('yuv420p', yuv), '-c:v', 'rawvideo']),
      readYuvj: () => ffmpegCpuMs(ffmpeg, [...rawIn('yuvj420p', yuvj), '-c:v', 'rawvideo']),
      oursYuvj: () => ffmpegCpuMs(ffmpeg, [...rawIn('yuvj420p', yuvj), ...newEncode]),
      oldYuvj: () => ffmpegCpuMs(ffmpeg, [...rawIn('yuvj420p', yuvj), ...oldEncode]),
      oursYuv: () => ffmpegCpuMs(ffmpeg, [...rawIn('yuv420p', yuv), ...newEncode]),
      oldYuv: () => ffmpegCpuMs(ffmpeg, [...rawIn('yuv420p', yuv), ...oldEncode]),
      turbo: async () => Number(await py('time', bgr, W, H, cvQuality)),
      patternOnly: () => ffmpegCpuMs(ffmpeg, [...pattern('new'), '-c:v', 'rawvideo']),
      captureNew: () => ffmpegCpuMs(ffmpeg, [...pattern('new'), ...newEncode]),
      captureOld: () => ffmpegCpuMs(ffmpeg, [...pattern('old'), ...oldEncode]),
    };
    const t = Object.fromEntries(Object.keys(steps).map((k) => [k, []]));
    const names = Object.keys(steps);
    for (let r = 0; r < runs; r++) {
      for (const k of r % 2 ? [...names].reverse() : names) t[k].push((await steps[k]()) / frames);
    }
    const per = (k, minus) => t[k].map((x, i) => x - (minus ? t[minus][i] : 0));
    const ours = per('oursYuvj', 'readYuvj');
    const ratio = ratioOf(t.turbo.map((x, i) => x / ours[i]));
    const cell = (xs) => {
      const s = stats(xs);
      return `${round(s.median)} (${round(s.min)}–${round(s.max)})`;
    };
    const vsTurbo = (xs) => {
      const r = ratioOf(t.turbo.map((x, i) => x / xs[i]));
      return `${r.median} (${r.min}–${r.max})`;
    };
    const row = (what, input, timing, xs, q) => ({ encoder: what, input, 'how timed': timing, 'CPU ms/frame (min–max)': cell(xs), 'mean KiB': q.kib, SSIM: q.ssim, 'libjpeg-turbo / this (min–max)': xs === t.turbo ? '1' : vsTurbo(xs) });
    const oursQ = { kib: round(oursMean / 1024, 1), ssim: round(ssimOurs, 4) };
    const none = { kib: '', ssim: '' };
    return {
      id: 'encode',
      title: 'JPEG encode: our capture path vs libjpeg-turbo',
      baseline: `OpenCV ${'cv2.imencode'} (libjpeg-turbo) on the same raw 1280x720 frames, quality matched by size`,
      goal: '>= 1 (on par or better)',
      goalMet: quick ? null : ratio.median >= 1,
      ratio,
      rows: [
        row(`ffmpeg mjpeg, as ffmpeg-args.ts now (-q:v ${qscale} -huffman default -thread_type slice)`, 'yuvj420p (as testsrc now)', 'encode run minus read-only run', ours, oursQ),
        row(`ffmpeg mjpeg, before (-q:v ${qscale}, optimal Huffman, frame threads)`, 'yuvj420p', 'encode run minus read-only run', per('oldYuvj', 'readYuvj'), none),
        row('ffmpeg mjpeg, as now, with the conversion to full range', 'yuv420p (as a raw camera)', 'encode run minus read-only run', per('oursYuv', 'readYuv'), none),
        row('ffmpeg mjpeg, before, with the conversion to full range', 'yuv420p', 'encode run minus read-only run', per('oldYuv', 'readYuv'), none),
        row(`libjpeg-turbo, cv2.imencode quality ${cvQuality} (baseline)`, 'bgr24', 'process CPU around the imencode loop', t.turbo, { kib: round(cvMean / 1024, 1), ssim: round(ssimCv, 4) }),
        row('capture path now: testsrc2 drawn in yuvj420p + encode', 'lavfi', 'whole ffmpeg run', t.captureNew, none),
        row('capture path before: testsrc2 (yuv420p, converted) + encode', 'lavfi', 'whole ffmpeg run', t.captureOld, none),
        row('the test pattern alone (testsrc2, no encode)', 'lavfi', 'whole ffmpeg run', t.patternOnly, none),
      ],
      notes: [
        `${frames} frames of testsrc2 with temporal noise at ${W}x${H} (camera-like detail), raw in ${dir.replace(/[^/]*$/, '')}; ${runs} runs of every row, order reversed every other run. CPU is user + system time of all threads: ffmpeg's from its -benchmark line, OpenCV's from python's process_time (single-threaded, frames already decoded into numpy arrays).`,
        `Ours, per frame: the CPU of \`ffmpeg -f rawvideo -i clip -c:v mjpeg ... -f null -\` minus that of the same command with \`-c:v rawvideo\` (reading and passing frames on), over ${frames} frames. The headline feeds full-range yuvj420p, which is what the test pattern now hands the encoder; libjpeg-turbo's time includes its BGR to YCbCr conversion. From limited-range yuv420p (a raw camera's YUYV is the same) ffmpeg 4.1 first converts every frame to full range in swscale, which costs about as much as the encode: the raw-camera rows, and why the headline row is not the whole story for a YUYV camera.`,
        `Quality matched by size: our mean JPEG at --quality ${QUALITY} (-q:v ${qscale}) is ${round(oursMean / 1024, 1)} KiB; OpenCV's closest quality (steps of 5) is ${cvQuality} at ${round(cvMean / 1024, 1)} KiB. SSIM against the raw source (ffmpeg's ssim filter, all planes): ours ${round(ssimOurs, 4)}, OpenCV's ${round(ssimCv, 4)}.`,
        `The capture path rows are what edgecam-server's testsrc ffmpeg does per frame (pattern and encode in one process, without -re): the pattern alone costs ${round(stats(t.patternOnly).median)} ms, so the encode in the capture path is about ${round(stats(t.captureNew).median - stats(t.patternOnly).median)} ms now against ${round(stats(t.captureOld).median - stats(t.patternOnly).median)} ms before (when ffmpeg converted every frame from yuv420p).`,
        `A raw camera is not yet on par: from yuv420p our encode with its range conversion costs ${round(stats(per('oursYuv', 'readYuv')).median)} ms against ${round(stats(per('oldYuv', 'readYuv')).median)} ms with the old settings and libjpeg-turbo's ${round(stats(t.turbo).median)} ms.`,
        'A camera that already sends MJPEG is copied (`-input_format mjpeg -c:v copy`, no encode at all). Hardware encoders: the bundled ffmpeg 4.1 lists mjpeg_vaapi (Intel, needs a VA-API device, which this machine lacks); Rockchip boards have mjpeg_rkmpp in MPP builds of ffmpeg; ffmpeg 4.1 has no V4L2 M2M JPEG encoder. The server README says how to pipe such an encoder in.',
      ],
    };
  });
}

await runStandalone(import.meta.url, run);
