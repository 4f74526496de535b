// The long part of the footprint benchmark: edgecam-server (the command as a user runs it) and a
// bare node:http server doing the same job, side by side for many minutes, their RSS read every
// 2 s. What it reports per process: RSS at the end (median of the last minute, with its min–max),
// the most over the run, the slope of a straight line fitted from minute one on (MiB per hour:
// flat is near 0), the anonymous part, and its ffmpeg children's RSS.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BARE_HTTP, SERVER_BIN, childrenRss, freePort, memoryOf, spawnNode, viewer, waitHttp } from './commands.mjs';
import { makeMemoryLimit } from './memory-limit.mjs';
import { round, sleep, stats } from './stats.mjs';

const SAMPLE_MS = 2000;

/** Least-squares slope of ys over xs (same length, at least 2), per unit of x. */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * One process of a profile, started and, once it answers, watched by `viewers` MJPEG viewers on
 * each of its streams. kind 'edgecam' | 'bare'; cameras: names (edgecam: a config file of
 * test-pattern cameras; bare: one stream per name); limit: { bytes } for a memory cgroup.
 */
async function startProcess({ kind, cameras, viewers, limit, nodeArgs = [] }, dir, name) {
  const port = await freePort();
  let cgroup = null;
  let limitNote = null;
  if (limit) {
    cgroup = makeMemoryLimit(limit.bytes, name);
    if (!cgroup.wrap) {
      // No cgroup here: V8's heap limit instead, which bounds the heap (not buffers, not ffmpeg).
      limitNote = `no cgroup (${cgroup.why}): --max-old-space-size=${Math.floor(limit.bytes / 1048576 / 2)} instead`;
      nodeArgs = [...nodeArgs, `--max-old-space-size=${Math.floor(limit.bytes / 1048576 / 2)}`];
      cgroup = null;
    } else limitNote = cgroup.how;
  }
  let args;
  if (kind === 'edgecam') {
    args = [SERVER_BIN, '--host', '127.0.0.1', '--port', '0', '--http-port', String(port), '--size', '640x480', '--log-level', 'warn'];
    if (cameras.length > 1) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, ['cameras:', ...cameras.flatMap((c) => [`  ${c}:`, '    source: testsrc']), ''].join('\n'));
      // Forty viewers from one address: past the default per-host and per-kind limits.
      args.push('--config', file, '--max-clients', '100', '--max-per-address', '0');
    }
  } else {
    args = ['--input-type=module', '-e', BARE_HTTP, join(dir, 'jpegs'), String(port), cameras.length > 1 ? cameras.join(',') : ''];
  }
  const proc = spawnNode(args, { nodeArgs, wrap: cgroup?.wrap });
  await waitHttp(port, kind === 'edgecam' ? '/status' : '/', proc);
  const paths = cameras.length > 1 ? cameras.map((c) => `/cams/${c}/stream.mjpg`) : ['/stream.mjpg'];
  const watching = paths.flatMap((p) => Array.from({ length: viewers }, () => viewer(port, p)));
  return { proc, watching, cgroup, limitNote };
}

/**
 * Runs `profiles` ({ id, label, kind, cameras, viewers, limit? }) side by side for `minutes`;
 * resolves to one summary per profile.
 */
export async function runProfiles(profiles, { minutes, dir }) {
  mkdirSync(dir, { recursive: true });
  const running = [];
  try {
    for (const p of profiles) running.push({ p, ...(await startProcess(p, dir, p.id)), samples: [] });
    const t0 = performance.now();
    const frames0 = running.map((r) => r.watching.map((v) => v.parts()));
    while (performance.now() - t0 < minutes * 60_000) {
      await sleep(SAMPLE_MS);
      const at = (performance.now() - t0) / 60_000;
      for (const r of running) {
        if (r.proc.child.exitCode !== null || r.proc.child.signalCode !== null) continue;
        const m = memoryOf(r.proc.pid);
        if (Number.isFinite(m.rss)) r.samples.push({ at, ...m, ffmpeg: childrenRss(r.proc.pid) });
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    return running.map((r, i) => {
      const exited = r.proc.child.exitCode !== null || r.proc.child.signalCode !== null;
      const last = r.samples.filter((s) => s.at >= minutes - 1);
      const fit = r.samples.filter((s) => s.at >= Math.min(1, minutes / 2));
      const fps = r.watching.length ? Math.min(...r.watching.map((v, j) => (v.parts() - frames0[i][j]) / seconds)) : null;
      return {
        id: r.p.id,
        label: r.p.label,
        exited: exited ? `${r.proc.child.signalCode ?? `exit ${r.proc.child.exitCode}`}: ${r.proc.stderr().trim().split('\n').at(-1) ?? ''}` : null,
        rss: stats(last.map((s) => s.rss)),
        lastMinute: last.map((s) => s.rss),
        anon: stats(last.map((s) => s.anon)).median,
        file: stats(last.map((s) => s.file)).median,
        ffmpeg: stats(last.map((s) => s.ffmpeg)).median,
        peak: Math.max(...r.samples.map((s) => s.rss)),
        firstMinute: stats(r.samples.filter((s) => s.at <= Math.min(1, minutes / 2)).map((s) => s.rss)).median,
        slopePerHour: fit.length >= 2 ? slope(fit.map((s) => s.at / 60), fit.map((s) => s.rss)) : NaN,
        slowestViewerFps: fps,
        limit: r.limitNote,
        cgroup: r.cgroup?.events() ?? null,
        samples: r.samples.length,
      };
    });
  } finally {
    for (const r of running) {
      for (const v of r.watching) v.close();
      await r.proc.stop();
      await r.cgroup?.remove();
    }
  }
}

/** A summary as a table row. */
export function profileRow(s) {
  const r = (x, d = 1) => (Number.isFinite(x) ? round(x, d) : 'n/a');
  return {
    process: s.label,
    'RSS after the run MiB (min–max, last minute)': s.exited ? `**${s.exited}**` : `${r(s.rss.median)} (${r(s.rss.min)}–${r(s.rss.max)})`,
    'first minute MiB': r(s.firstMinute),
    'most MiB': r(s.peak),
    'slope MiB/h': r(s.slopePerHour, 2),
    'anonymous / file-backed MiB': `${r(s.anon)} / ${r(s.file)}`,
    'its ffmpeg MiB': s.ffmpeg ? r(s.ffmpeg) : '–',
    'slowest viewer fps': s.slowestViewerFps === null ? '–' : r(s.slowestViewerFps),
    'hard limit': s.limit ? `${s.cgroup ? `hit ${s.cgroup.limitHits}×, OOM kills ${s.cgroup.oomKills}, most charged ${r(s.cgroup.peak)} MiB` : s.limit}` : '–',
  };
}
