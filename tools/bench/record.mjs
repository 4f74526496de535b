#!/usr/bin/env node
// Recording benchmark (issues 3 and 29): `edgecam record` against ffmpeg recording the same
// server, and @edgecam/recorder's AVI muxer against `ffmpeg -c copy` on the same frames.
//
// The headline (issue 29): process CPU per frame of the whole command, start-up included, each
// recording 900 frames from the same edgecam-server streaming at 30 fps over loopback, as its
// users would: `edgecam record --frames 900` over TCP (v2), and `ffmpeg -f mpjpeg -i
// http://…/stream.mjpg -frames:v 900 -c copy` over HTTP. CPU is user + system time of the
// command and its threads, read from this process's children's times (/proc/self/stat, 10 ms
// ticks) around each run; ratio = ffmpeg's / ours per run, median: 1 or more means ours costs
// no more. The same with one frame (start-up), `node -e 0` (Node's own start-up) and the
// unbundled client show where it goes.
//
// The muxer (issue 3): ffmpeg's testsrc2 at 1280x720 with temporal noise, JPEG-encoded once
// (about 100 KiB each, like a real 720p camera), concatenated into frames.mjpeg in a temp dir.
// Each run, in alternating order so both see the same machine noise:
//   - ours:   read frames.mjpeg, cut it at the known frame sizes, and mux every frame into an
//             AVI with createRecorder (defaults: 8 MiB queue, datasync at close), awaiting each
//             write() as a recording does. Wall time from the read to close() resolving.
//   - ffmpeg: the ffmpeg binary the workspace resolves, spawned as above, wall time to its exit.
// Per frame: ours, a warm process's job without sync over N; ffmpeg, its run on N frames minus
// its run on 1, over N - 1. More rows show where the time goes: with the final datasync (ffmpeg
// does not sync), frames already in memory, and the recorder alone in a fresh `node` process.
//
// Usage: node tools/bench/record.mjs [--quick] [--json]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
/** The installed command (it runs the bundle, dist/bundle/cli.cjs), and tsc's unbundled output as it ran before. */
const edgecamBin = join(clientDir, 'bin/edgecam.js');
const edgecamUnbundled = join(clientDir, 'dist/cli.js');

/** CPU time (user + system, ms) of the children this process has waited for so far: 10 ms ticks. */
function childrenCpuMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

/** A whole command, a fresh process: its CPU time (it and its threads), spawn to exit, in ms. */
async function cpuOf(cmd, args) {
  const before = childrenCpuMs();
  await run1(cmd, args);
  return childrenCpuMs() - before;
}

/**
 * Whole command against whole command, both recording N frames from the same edgecam-server
 * (in-memory source paced at 30 fps) over loopback, each the way its users would: the CPU each
 * spends, start-up included. Alternating, after one warm-up of each.
 */
async function cpuCommands(ffmpeg, { quick, frames, runs }) {
  return withServers('record-cpu', { quick }, async ({ jpegs, start }) => {
    const server = await start({ kind: 'edgecam', fps: 30, alwaysOn: true, http: true });
    return withTempDir('record-cpu-out', async (dir) => {
      const ours = (bin, n) => cpuOf(process.execPath, [bin, '--port', String(server.port), 'record', '--frames', String(n), '-o', join(dir, 'ours.avi')]);
      const theirs = (n) =>
        cpuOf(ffmpeg, ['-v', 'error', '-nostdin', '-f', 'mpjpeg', '-i', `http://127.0.0.1:${server.httpPort}/stream.mjpg`, '-frames:v', String(n), '-c', 'copy', '-y', join(dir, 'ffmpeg.avi')]);
      const kinds = {
        ours: () => ours(edgecamBin, frames),
        ffmpeg: () => theirs(frames),
        oursOne: () => ours(edgecamBin, 1),
        ffmpegOne: () => theirs(1),
        unbundled: () => ours(edgecamUnbundled, frames),
        node: () => cpuOf(process.execPath, ['-e', '0']),
      };
      const t = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
      for (const step of Object.values(kinds)) await step(); // warm-up: page cache, the server's capture
      for (let r = 0; r < runs; r++) {
        const steps = Object.entries(kinds);
        if (r % 2) steps.reverse();
        for (const [k, step] of steps) t[k].push(await step());
      }
      // Checked once, after the runs: each file holds the frames it should.
      await ours(edgecamBin, frames);
      await theirs(frames);
      const [mine, theirsInfo] = await Promise.all([inspect(join(dir, 'ours.avi')), inspect(join(dir, 'ffmpeg.avi'))]);
      if (mine.frames !== frames || mine.problems.length > 0) throw new Error(`edgecam record wrote a wrong AVI: ${JSON.stringify(mine)}`);
      if (theirsInfo.frames < frames) throw new Error(`ffmpeg wrote ${theirsInfo.frames} frames, expected ${frames}`);
      return { ...t, meanJpeg: jpegs.reduce((a, j) => a + j.length, 0) / jpegs.length };
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
    // Quick still records 10 s: ffmpeg's CPU for fewer frames can be under one 10 ms tick, a ratio of 0.
    const cpuFrames = quick ? 300 : 900;
    const cpu = await cpuCommands(ffmpeg.path, { quick, frames: cpuFrames, runs: quick ? 1 : 5 });
    // Per frame: ours is a warm process's whole job over the frame count; ffmpeg's is its run
    // minus its run on 1 frame (start-up, probing, opening files), over the other frames.
    const perOurs = t.oursNoSync.map((x) => x / frameCount);
    const perFfmpeg = t.ffmpeg.map((x, i) => (x - t.ffmpegOne[i]) / (frameCount - 1));
    const perFrame = stats(perOurs.map((x, i) => perFfmpeg[i] / x));
    const cpuRatio = stats(cpu.ours.map((x, i) => cpu.ffmpeg[i] / x));
    const unbundledRatio = stats(cpu.unbundled.map((x, i) => cpu.ffmpeg[i] / x));
    const ratio = cpuRatio;
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
    const perCpu = (xs, n = cpuFrames) => msCell(xs.map((x) => x / n));
    const marginal = (many, one) => msCell(many.map((x, i) => (x - one[i]) / (cpuFrames - 1)));
    const like = [
      { command: `edgecam record --frames ${cpuFrames}`, what: 'TCP (v2) from edgecam-server at 30 fps, AVI with its checkpoints and datasync', 'CPU ms (min–max)': msCell(cpu.ours, 0), 'CPU ms per frame, start-up included': perCpu(cpu.ours), 'ffmpeg / this (min–max)': ratioCell(cpuRatio) },
      { command: `ffmpeg -f mpjpeg -i http://…/stream.mjpg -frames:v ${cpuFrames} -c copy`, what: 'HTTP from the same server, AVI, no sync', 'CPU ms (min–max)': msCell(cpu.ffmpeg, 0), 'CPU ms per frame, start-up included': perCpu(cpu.ffmpeg), 'ffmpeg / this (min–max)': '1' },
      { command: 'edgecam record --frames 1', what: 'start-up, connecting, one frame, closing the file', 'CPU ms (min–max)': msCell(cpu.oursOne, 0), 'CPU ms per frame, start-up included': `each further frame: ${marginal(cpu.ours, cpu.oursOne)}`, 'ffmpeg / this (min–max)': '' },
      { command: 'ffmpeg … -frames:v 1', what: 'as above', 'CPU ms (min–max)': msCell(cpu.ffmpegOne, 0), 'CPU ms per frame, start-up included': `each further frame: ${marginal(cpu.ffmpeg, cpu.ffmpegOne)}`, 'ffmpeg / this (min–max)': '' },
      { command: 'node -e 0', what: "Node's own start-up, nothing loaded", 'CPU ms (min–max)': msCell(cpu.node, 0), 'CPU ms per frame, start-up included': '', 'ffmpeg / this (min–max)': '' },
      { command: `edgecam record --frames ${cpuFrames}, tsc output (node dist/cli.js)`, what: 'the same client without the bundle', 'CPU ms (min–max)': msCell(cpu.unbundled, 0), 'CPU ms per frame, start-up included': perCpu(cpu.unbundled), 'ffmpeg / this (min–max)': ratioCell(unbundledRatio) },
      { command: 'recorder alone, per frame', what: `warm process reading frames.mjpeg, no sync (as ffmpeg), wall time of the whole job / ${frameCount}`, 'CPU ms (min–max)': '', 'CPU ms per frame, start-up included': `wall ${msCell(perOurs)}`, 'ffmpeg / this (min–max)': ratioCell(perFrame) },
      { command: 'ffmpeg -c copy from frames.mjpeg, per frame', what: `(wall time on ${frameCount} frames − on 1 frame) / ${frameCount - 1}, same run`, 'CPU ms (min–max)': '', 'CPU ms per frame, start-up included': `wall ${msCell(perFfmpeg)}`, 'ffmpeg / this (min–max)': '1' },
    ];
    return {
      id: 'record',
      title: 'Recording: edgecam record against ffmpeg, CPU per frame',
      baseline: `ffmpeg recording the same server (\`-f mpjpeg -i http://…/stream.mjpg -frames:v ${cpuFrames} -c copy\`), process CPU, start-up included`,
      goal: `edgecam record's CPU over ${cpuFrames} frames at 30 fps, start-up included, at most ffmpeg's (ratio >= 1)`,
      goalMet: quick ? null : ratio.median >= GOAL,
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
        `Goal: recording ${cpuFrames} frames (1280x720, mean ${round(cpu.meanJpeg / 1024, 1)} KiB) from the same server at 30 fps, \`edgecam record\` spends ${round(stats(cpu.ours).median, 0)} ms of CPU (${round(stats(cpu.ours).median / cpuFrames, 3)} ms a frame) against ffmpeg's ${round(stats(cpu.ffmpeg).median, 0)} ms (${round(stats(cpu.ffmpeg).median / cpuFrames, 3)} ms), ratio ${round(cpuRatio.median)} (${round(cpuRatio.min)}–${round(cpuRatio.max)}), goal at least 1: ${quick ? 'not judged in --quick' : ratio.median >= GOAL ? 'met' : 'not met'}. ${cpu.ours.length} runs of each, alternating, after one warm-up; CPU is user + system time of the command and all its threads, from this process's children's times around each run (10 ms ticks); both files are checked to hold ${cpuFrames} frames.`,
        `Where ours goes: Node's own start-up (\`node -e 0\`) is ${round(stats(cpu.node).median, 0)} ms here, ${round(stats(cpu.node).median / stats(cpu.ffmpeg).median, 2)} times ffmpeg's whole job; start-up, connecting and one frame ${round(stats(cpu.oursOne).median, 0)} ms; each further frame about ${round(stats(cpu.ours.map((x, i) => (x - cpu.oursOne[i]) / (cpuFrames - 1))).median, 3)} ms (ffmpeg's ${round(stats(cpu.ffmpeg.map((x, i) => (x - cpu.ffmpegOne[i]) / (cpuFrames - 1))).median, 3)} ms): reading the socket, the v2 decoder's one copy, the recorder's checks and queue, one positional writev per batch of frames (held up to 500 ms) through libuv's thread pool, and a header checkpoint with a datasync every 2 s (what keeps a killed recording playable, which ffmpeg does not do). At 30 fps each of those runs only 30 times a second, so V8 runs most of it in its interpreter and baseline compiler, never long enough to optimize it. The unbundled client (tsc output) costs ${round(stats(cpu.unbundled).median - stats(cpu.ours).median, 0)} ms more.`,
        `What changed for it (issue 29): the protocol sockets read into one reused 1 MiB buffer (net's onread, client-cli/src/socket-reads.ts): a frame in one read instead of two or three 64 KiB ones through the stream machinery (reading 900 frames took about half the CPU in a side-by-side trial); node:tls is loaded only with --tls; the bundle takes rxjs's ES modules (tree-shaken), leaves zod's translations out, and runs from V8's code cache (on 2026-12-08 that took start-up, connecting and one frame from 240 to 190 ms of CPU); the recorder writes frames in batches held up to 500 ms (writeDelayMs: about 15 frames a writev at 30 fps instead of one) and recordTo hands it each frame with plain calls instead of a promise and a microtask (tools/bench/analyses.md).`,
        `Second table (issue 3): the muxer alone against \`ffmpeg -c copy\` on the same ${frameCount} frames; per frame, the recorder in a warm process does ffmpeg's job (reads frames.mjpeg, muxes, no sync) in ${round(stats(perOurs).median, 3)} ms a frame against ffmpeg's ${round(stats(perFfmpeg).median, 3)} ms (its run minus its 1-frame run, which is its start-up), ratio ${round(perFrame.median)} (${round(perFrame.min)}–${round(perFrame.max)}): the muxer is not where a recording's CPU goes.`,
        `In the second table each row is the median of ${runs} runs against ffmpeg's whole run on ${frameCount} frames (so those ratios mix a warm process with a fresh one, except the fresh-process row).`,
        `${frameCount} JPEG frames of 1280x720 (testsrc2 with noise, mean ${round(totalBytes / frameCount / 1024, 1)} KiB, ${round(totalBytes / 1e6, 1)} MB) muxed into an AVI in ${tmpdir()}, ${runs} runs after one warm-up, order alternating; the ratio is ffmpeg's wall time over ours, per run, median.`,
        'In the second table, the first two rows read frames.mjpeg as ffmpeg does (4 MiB reads into reused buffers, frames cut at their known sizes where ffmpeg parses markers) and the first syncs the file at close, which ffmpeg does not; the in-memory row is the recorder\'s real job (frames come off the network).',
        'The fresh-process row runs only @edgecam/recorder in a new node (start-up and that import); `edgecam record` also loads the client (commander, pino, zod, rxjs, @edgecam/protocol), bundled into one CommonJS file (tools/bundle-cli.mjs) and run from its V8 code cache; the other commands (the viewer, the shell, the file commands) are in that file but never compiled or run.',
        `Checked after the runs: our file has ${oursInfo.frames} frames and no problems; ffmpeg's has ${theirInfo.frames} chunks (ffmpeg 4 doubles the time base and writes an empty chunk between frames).`,
      ],
    };
  });
}

await runStandalone(import.meta.url, run);
