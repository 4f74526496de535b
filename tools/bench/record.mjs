#!/usr/bin/env node
// Recording benchmark: @edgecam/recorder's AVI muxer against `ffmpeg -f mjpeg -i frames.mjpeg
// -c copy out.avi` on the same frames (issue 3: "ours should be faster").
//
// The frames: ffmpeg's testsrc2 at 1280x720 with temporal noise, JPEG-encoded once (about
// 100 KiB each, like a real 720p camera), concatenated into frames.mjpeg in a temp dir.
// Each run, in alternating order so both see the same machine noise:
//   - ours:   read frames.mjpeg, cut it at the known frame sizes, and mux every frame into an
//             AVI with createRecorder (defaults: 8 MiB queue, datasync at close), awaiting each
//             write() as a recording does. Wall time from the read to close() resolving.
//   - ffmpeg: the ffmpeg binary the workspace resolves, spawned as above, wall time to its exit.
// Like for like, two ways: per frame (ours: a warm process's job without sync over N; ffmpeg:
// its run on N frames minus its run on 1, over N - 1), and whole command against whole command
// (`edgecam record --frames N` and ffmpeg, each recording from the same edgecam-server over loopback).
// The headline is per frame, ffmpeg's time / ours: above 1 means ours is faster. Median over
// runs. More rows show where the time goes: with the final datasync (ffmpeg does not sync),
// frames already in memory, and the recorder alone in a fresh `node` process.
//
// Usage: node tools/bench/record.mjs [--quick] [--json]
//   Run `npx tsc -p packages/recorder/tsconfig.build.json` first: this imports the built dist.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { withServers, withTempDir } from './support/setup.mjs';
import { round, runStandalone, stats } from './support/stats.mjs';
import { createRecorder, inspect } from '@edgecam/recorder';

const GOAL = 1;

/** The workspace's order: EDGECAM_FFMPEG, ffmpeg-static, @ffmpeg-installer/ffmpeg, PATH. */
function resolveFfmpeg() {
  if (process.env.EDGECAM_FFMPEG) return { path: process.env.EDGECAM_FFMPEG, from: 'EDGECAM_FFMPEG' };
  const require = createRequire(import.meta.url);
  for (const [pkg, pick] of [['ffmpeg-static', (m) => m], ['@ffmpeg-installer/ffmpeg', (m) => m.path]]) {
    try {
      const p = pick(require(pkg));
      if (typeof p === 'string' && existsSync(p)) return { path: p, from: pkg };
    } catch {
      // not installed
    }
  }
  return { path: 'ffmpeg', from: 'PATH' };
}

function run1(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000); // generous: these machines are shared
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

async function makeFrames(ffmpeg, dir, count) {
  await run1(ffmpeg, [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30,noise=alls=8:allf=t',
    '-frames:v', String(count), '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2', join(dir, 'f%05d.jpg'),
  ]);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.jpg')).sort();
  const jpegs = await Promise.all(names.map((n) => readFile(join(dir, n))));
  await Promise.all(names.map((n) => rm(join(dir, n))));
  const mjpeg = join(dir, 'frames.mjpeg');
  await writeFile(mjpeg, Buffer.concat(jpegs));
  return { mjpeg, jpegs };
}

/** Ours, with the frames already in memory (as they are when they come off the network). */
async function oursInMemory(frames, out, fsync) {
  const t0 = performance.now();
  const rec = createRecorder(out, { frameRate: 25, fsync, checkpointIntervalMs: 0 });
  for (const f of frames) await rec.write(f);
  await rec.close();
  return performance.now() - t0;
}

const CHUNK = 4 * 1024 * 1024;
const POOL = 4; // 16 MiB: more than the recorder's 8 MiB queue plus a 4 MiB write batch

/**
 * Ours, reading frames.mjpeg as ffmpeg does: in 4 MiB reads into a small pool of reused buffers
 * (no 54 MB allocation), frames cut at their known sizes (views; a frame across two reads is
 * copied once). A buffer is reused only once every frame cut from it has been written.
 */
async function oursFromFile(mjpeg, sizes, out, fsync) {
  const t0 = performance.now();
  const fh = await open(mjpeg, 'r');
  const pool = Array.from({ length: POOL }, () => Buffer.allocUnsafeSlow(CHUNK));
  const releasedAt = new Array(POOL).fill(0); // bytes accepted when a buffer's last frame was queued
  const rec = createRecorder(out, { frameRate: 25, fsync, checkpointIntervalMs: 0 });
  let accepted = 0;
  let filePos = 0;
  let n = 0; // reads done
  let buf = Buffer.alloc(0);
  let at = 0;
  const readNext = async () => {
    const slot = n % POOL;
    // Written bytes = accepted - pending; the writes are in order, so this tells when it is free.
    while (accepted - rec.stats.pendingBytes < releasedAt[slot]) await new Promise((r) => setImmediate(r));
    const { bytesRead } = await fh.read(pool[slot], 0, CHUNK, filePos);
    filePos += bytesRead;
    n++;
    return pool[slot].subarray(0, bytesRead);
  };
  for (const size of sizes) {
    let frame;
    if (at + size <= buf.length) {
      frame = buf.subarray(at, at + size);
      at += size;
    } else {
      frame = Buffer.allocUnsafe(size);
      let got = buf.copy(frame, 0, at);
      while (got < size) {
        releasedAt[(n - 1 + POOL) % POOL] = accepted; // every frame cut from the old buffer is queued by now
        buf = await readNext();
        at = Math.min(size - got, buf.length);
        buf.copy(frame, got, 0, at);
        got += at;
      }
    }
    await rec.write(frame);
    accepted += size;
  }
  await rec.close();
  await fh.close();
  return performance.now() - t0;
}

/** Ours in a fresh node process, as a command-line recorder would run. */
async function oursChild(mjpeg, sizes, out) {
  const dist = pathToFileURL(createRequire(import.meta.url).resolve('@edgecam/recorder')).href;
  const code = `
    import { readFile } from 'node:fs/promises';
    import { createRecorder } from ${JSON.stringify(dist)};
    const [mjpeg, out, sizes] = process.argv.slice(1);
    const all = await readFile(mjpeg);
    const rec = createRecorder(out, { frameRate: 25, checkpointIntervalMs: 0 });
    let at = 0;
    for (const size of sizes.split(',').map(Number)) { await rec.write(all.subarray(at, at + size)); at += size; }
    await rec.close();`;
  const t0 = performance.now();
  await run1(process.execPath, ['--input-type=module', '-e', code, mjpeg, out, sizes.join(',')]);
  return performance.now() - t0;
}

async function theirs(ffmpeg, mjpeg, out, frames) {
  const t0 = performance.now();
  const limit = frames === undefined ? [] : ['-frames:v', String(frames)];
  await run1(ffmpeg, ['-v', 'error', '-nostdin', '-f', 'mjpeg', '-i', mjpeg, '-c', 'copy', ...limit, '-y', out]);
  return performance.now() - t0;
}

// The package's folder: its entry is dist/index.js.
const clientDir = fileURLToPath(new URL('..', pathToFileURL(createRequire(import.meta.url).resolve('@edgecam/client-cli'))));
/** The installed command (it runs the bundle, dist/bundle/cli.js), and tsc's unbundled output as it ran before. */
const edgecamBin = join(clientDir, 'bin/edgecam.js');
const edgecamUnbundled = join(clientDir, 'dist/cli.js');

/** A whole command, a fresh process, from spawn to exit, in ms. */
async function timed(cmd, args) {
  const t0 = performance.now();
  await run1(cmd, args);
  return performance.now() - t0;
}

/**
 * Whole command against whole command, both recording N frames from the same edgecam-server
 * (in-memory source, unthrottled) over loopback, each the way its users would:
 * `edgecam record --frames N` over TCP (v2), and `ffmpeg -f mpjpeg -i http://…/stream.mjpg
 * -frames:v N -c copy` over HTTP. Both write to the same folder; ours datasyncs at close (its
 * crash safety), ffmpeg does not, so where /dev/shm exists both also write there (no disk to
 * sync). Alternating, after one warm-up of each.
 */
async function wholeCommands(ffmpeg, { quick, frames, runs }) {
  return withServers('record-whole', { quick }, async ({ jpegs, start }) => {
    const server = await start({ kind: 'edgecam', fps: 0, idleStopSeconds: 0.1, http: true });
    return withTempDir('record-whole-out', async (dir) => {
      const dirs = existsSync('/dev/shm') ? { disk: dir, shm: await mkdtemp('/dev/shm/edgecam-bench-') } : { disk: dir };
      try {
        const ours = (bin, d) => timed(process.execPath, [bin, '--port', String(server.port), 'record', '--frames', String(frames), '-o', join(d, 'ours.avi')]);
        const theirs = (d) =>
          timed(ffmpeg, ['-v', 'error', '-nostdin', '-f', 'mpjpeg', '-i', `http://127.0.0.1:${server.httpPort}/stream.mjpg`, '-frames:v', String(frames), '-c', 'copy', '-y', join(d, 'ffmpeg.avi')]);
        const kinds = {
          ours: () => ours(edgecamBin, dirs.disk),
          unbundled: () => ours(edgecamUnbundled, dirs.disk),
          ffmpeg: () => theirs(dirs.disk),
          ...(dirs.shm ? { oursShm: () => ours(edgecamBin, dirs.shm), ffmpegShm: () => theirs(dirs.shm) } : {}),
        };
        const t = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
        for (const step of Object.values(kinds)) await step(); // warm-up: page cache, the server's capture
        for (let r = 0; r < runs; r++) {
          const steps = Object.entries(kinds);
          if (r % 2) steps.reverse();
          for (const [k, step] of steps) t[k].push(await step());
        }
        for (const d of Object.values(dirs)) {
          const [mine, theirsInfo] = await Promise.all([inspect(join(d, 'ours.avi')), inspect(join(d, 'ffmpeg.avi'))]);
          if (mine.frames !== frames || mine.problems.length > 0) throw new Error(`edgecam record wrote a wrong AVI: ${JSON.stringify(mine)}`);
          if (theirsInfo.frames < frames) throw new Error(`ffmpeg wrote ${theirsInfo.frames} frames, expected ${frames}`);
        }
        return { ...t, meanJpeg: jpegs.reduce((a, j) => a + j.length, 0) / jpegs.length };
      } finally {
        if (dirs.shm) await rm(dirs.shm, { recursive: true, force: true });
      }
    });
  });
}

/** Runs the benchmark and resolves to the BenchResult that tools/bench/run.mjs expects. */
export async function run({ quick = false } = {}) {
  const ffmpeg = resolveFfmpeg();
  const frameCount = quick ? 60 : 600;
  const runs = quick ? 1 : 7;
  return withTempDir('record', async (dir) => {
    const { mjpeg, jpegs } = await makeFrames(ffmpeg.path, dir, frameCount);
    const sizes = jpegs.map((j) => j.length);
    const totalBytes = sizes.reduce((a, b) => a + b, 0);
    const outOurs = join(dir, 'ours.avi');
    const outTheirs = join(dir, 'ffmpeg.avi');
    const t = { ours: [], oursNoSync: [], oursMemory: [], oursChild: [], ffmpeg: [], ffmpegOne: [] };
    // One untimed warm-up of each, so the page cache and JIT are the same for every timed run.
    await oursFromFile(mjpeg, sizes, outOurs, true);
    await oursInMemory(jpegs, outOurs, true);
    await theirs(ffmpeg.path, mjpeg, outTheirs);
    for (let r = 0; r < runs; r++) {
      const steps = [
        async () => t.ours.push(await oursFromFile(mjpeg, sizes, outOurs, true)),
        async () => t.ffmpeg.push(await theirs(ffmpeg.path, mjpeg, outTheirs)),
        async () => t.ffmpegOne.push(await theirs(ffmpeg.path, mjpeg, outTheirs, 1)),
        async () => t.oursNoSync.push(await oursFromFile(mjpeg, sizes, outOurs, false)),
        async () => t.oursMemory.push(await oursInMemory(jpegs, outOurs, true)),
        async () => t.oursChild.push(await oursChild(mjpeg, sizes, outOurs)),
      ];
      if (r % 2) steps.reverse();
      for (const step of steps) {
        await rm(outOurs, { force: true });
        await rm(outTheirs, { force: true });
        await step();
      }
    }
    // Both outputs hold every frame (ffmpeg's may add empty "repeat" chunks for its time base).
    await oursFromFile(mjpeg, sizes, outOurs, true);
    const written = await readFile(outOurs);
    if (!written.includes(jpegs[frameCount - 1])) throw new Error('our AVI lacks the last frame');
    await theirs(ffmpeg.path, mjpeg, outTheirs);
    const [oursInfo, theirInfo] = await Promise.all([inspect(outOurs), inspect(outTheirs)]);
    if (oursInfo.frames !== frameCount || oursInfo.problems.length > 0) throw new Error(`our AVI is wrong: ${JSON.stringify(oursInfo)}`);

    const ratioOf = (xs) => stats(xs.map((x, i) => t.ffmpeg[i] / x));
    const wholeFrames = quick ? 60 : 3000;
    const whole = await wholeCommands(ffmpeg.path, { quick, frames: wholeFrames, runs: Math.min(runs, 5) });
    // Per frame: ours is a warm process's whole job over the frame count; ffmpeg's is its run
    // minus its run on 1 frame (start-up, probing, opening files), over the other frames.
    const perOurs = t.oursNoSync.map((x) => x / frameCount);
    const perFfmpeg = t.ffmpeg.map((x, i) => (x - t.ffmpegOne[i]) / (frameCount - 1));
    const perFrame = stats(perOurs.map((x, i) => perFfmpeg[i] / x));
    const wholeRatio = stats(whole.ours.map((x, i) => whole.ffmpeg[i] / x));
    const unbundledRatio = stats(whole.unbundled.map((x, i) => whole.ffmpeg[i] / x));
    const shmRatio = whole.oursShm ? stats(whole.oursShm.map((x, i) => whole.ffmpegShm[i] / x)) : undefined;
    const ratio = perFrame;
    const row = (name, xs) => {
      const s = stats(xs);
      const r = ratioOf(xs);
      return {
        muxer: name,
        'median ms': round(s.median, 1),
        'min–max ms': `${round(s.min, 1)}–${round(s.max, 1)}`,
        'MB/s': round(totalBytes / 1e6 / (s.median / 1000), 0),
        'ffmpeg time / this (min–max)': xs === t.ffmpeg ? '1' : `${round(r.median)} (${round(r.min)}–${round(r.max)})`,
      };
    };
    const msCell = (xs, d = 3) => {
      const s = stats(xs);
      return `${round(s.median, d)} (${round(s.min, d)}–${round(s.max, d)})`;
    };
    const ratioCell = (r) => `${round(r.median)} (${round(r.min)}–${round(r.max)})`;
    const like = [
      { comparison: 'per frame, recorder', 'how timed': `warm process reading frames.mjpeg, no sync (as ffmpeg), wall time of the whole job / ${frameCount}`, 'ms (min–max)': msCell(perOurs), 'ffmpeg / this (min–max)': ratioCell(perFrame) },
      { comparison: 'per frame, ffmpeg -c copy', 'how timed': `(wall time on ${frameCount} frames − on 1 frame) / ${frameCount - 1}, same run`, 'ms (min–max)': msCell(perFfmpeg), 'ffmpeg / this (min–max)': '1' },
      { comparison: `whole command, edgecam record --frames ${wholeFrames}`, 'how timed': `fresh process, spawn to exit, from edgecam-server over loopback (TCP, v2), datasync at close, into ${tmpdir()}`, 'ms (min–max)': msCell(whole.ours, 1), 'ffmpeg / this (min–max)': ratioCell(wholeRatio) },
      { comparison: `whole command, ffmpeg -f mpjpeg -i http://…/stream.mjpg -frames:v ${wholeFrames} -c copy`, 'how timed': `fresh process, spawn to exit, from the same server over loopback (HTTP), no sync, into ${tmpdir()}`, 'ms (min–max)': msCell(whole.ffmpeg, 1), 'ffmpeg / this (min–max)': '1' },
      { comparison: 'whole command, edgecam record, before the bundle (tsc output, node dist/cli.js)', 'how timed': 'as the edgecam row', 'ms (min–max)': msCell(whole.unbundled, 1), 'ffmpeg / this (min–max)': ratioCell(unbundledRatio) },
      ...(shmRatio
        ? [
            { comparison: 'whole command, edgecam record into /dev/shm', 'how timed': 'as above, into tmpfs: no disk, so no sync cost', 'ms (min–max)': msCell(whole.oursShm, 1), 'ffmpeg / this (min–max)': ratioCell(shmRatio) },
            { comparison: 'whole command, ffmpeg into /dev/shm', 'how timed': 'as above, into tmpfs', 'ms (min–max)': msCell(whole.ffmpegShm, 1), 'ffmpeg / this (min–max)': '1' },
          ]
        : []),
    ];
    return {
      id: 'record',
      title: 'Recording: AVI muxer vs ffmpeg -c copy',
      baseline: "`ffmpeg -f mjpeg -i frames.mjpeg -c copy out.avi`, per frame (its run on N frames minus on 1)",
      goal: '> 1 (faster)',
      goalMet: quick ? null : ratio.median > GOAL,
      ratio: { median: round(ratio.median), min: round(ratio.min), max: round(ratio.max), runs: ratio.runs },
      table: like,
      rows: [
        row('recorder, reading frames.mjpeg (defaults: datasync at close)', t.ours),
        row('recorder, reading frames.mjpeg, fsync: false (as ffmpeg)', t.oursNoSync),
        row('recorder, frames already in memory (defaults)', t.oursMemory),
        row('recorder in a fresh node process (start-up + imports)', t.oursChild),
        row(`ffmpeg -c copy (${ffmpeg.from})`, t.ffmpeg),
      ],
      notes: [
        `Like for like, two ways (first table; the headline is per frame): per frame, the recorder in a warm process does ffmpeg's job (reads frames.mjpeg, muxes, no sync) in ${round(stats(perOurs).median, 3)} ms a frame against ffmpeg's ${round(stats(perFfmpeg).median, 3)} ms (its run minus its 1-frame run, which is its start-up), ratio ${round(perFrame.median)} (${round(perFrame.min)}–${round(perFrame.max)}). Whole command against whole command, both recording ${wholeFrames} frames (mean ${round(whole.meanJpeg / 1024, 1)} KiB) from the same edgecam-server over loopback, each as its users would (\`edgecam record --frames ${wholeFrames}\` over TCP, ffmpeg from /stream.mjpg over HTTP): ours takes ${round(stats(whole.ours).median, 0)} ms against ffmpeg's ${round(stats(whole.ffmpeg).median, 0)} ms, ratio ${round(wholeRatio.median)} (${round(wholeRatio.min)}–${round(wholeRatio.max)})${shmRatio ? `, and ${round(shmRatio.median)} (${round(shmRatio.min)}–${round(shmRatio.max)}) into /dev/shm, where our datasync at close costs nothing` : ''}; ${whole.ours.length} runs each, alternating; both files are checked to hold ${wholeFrames} frames. Ours is slower as a whole command: Node's start-up and the client's per-frame work (reading, framing, the recorder's queue) cost more than ffmpeg's read-and-copy loop. Bundling the CLI into one file (esbuild, scripts/bundle.mjs) took ${round(stats(whole.unbundled).median - stats(whole.ours).median, 0)} ms off each command: ${round(stats(whole.unbundled).median, 0)} ms before, ratio ${round(unbundledRatio.median)}.`,
        `Second table: where the time goes, each the median of ${runs} runs against ffmpeg's whole run on ${frameCount} frames (so those ratios mix a warm process with a fresh one, except the fresh-process row).`,
        `${frameCount} JPEG frames of 1280x720 (testsrc2 with noise, mean ${round(totalBytes / frameCount / 1024, 1)} KiB, ${round(totalBytes / 1e6, 1)} MB) muxed into an AVI in ${tmpdir()}, ${runs} runs after one warm-up, order alternating; the ratio is ffmpeg's wall time over ours, per run, median.`,
        'In the second table, the first two rows read frames.mjpeg as ffmpeg does (4 MiB reads into reused buffers, frames cut at their known sizes where ffmpeg parses markers) and the first syncs the file at close, which ffmpeg does not; the in-memory row is the recorder\'s real job (frames come off the network).',
        'The fresh-process row runs only @edgecam/recorder in a new node (start-up and that import); `edgecam record` also loads the client (commander, pino, zod, rxjs, @edgecam/protocol), bundled into one file with only the command it runs (the viewer, the shell and the file commands are chunks left unloaded).',
        `Checked after the runs: our file has ${oursInfo.frames} frames and no problems; ffmpeg's has ${theirInfo.frames} chunks (ffmpeg 4 doubles the time base and writes an empty chunk between frames).`,
      ],
    };
  });
}

await runStandalone(import.meta.url, run);
