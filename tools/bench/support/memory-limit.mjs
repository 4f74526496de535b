// A hard memory limit for one benchmarked process tree, as a systemd MemoryMax= gives a service: a
// memory cgroup made under the benchmark's own (v2 or v1), removed afterwards. Where cgroups
// cannot be made (no permission, no memory controller) there is none, and the caller falls back
// to V8's heap limit (--max-old-space-size), which bounds the heap only.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where this process's memory cgroup is in the file system, and its version; null if none. */
function ownMemoryCgroup() {
  let lines;
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  } catch {
    return null;
  }
  for (const line of lines) {
    const [, controllers, path] = line.split(':');
    if (controllers.split(',').includes('memory')) {
      const dir = join('/sys/fs/cgroup/memory', path);
      if (existsSync(join(dir, 'memory.limit_in_bytes'))) return { dir, v: 1 };
    }
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  if (unified) {
    for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      const dir = join(root, unified.slice(3));
      if (existsSync(join(root, 'cgroup.controllers')) && readFileSync(join(root, 'cgroup.controllers'), 'utf8').includes('memory')) return { dir, v: 2 };
    }
  }
  return null;
}

/**
 * A memory cgroup limited to `bytes` (swap off), or null with the reason in `why`:
 * { wrap(cmd, args) -> [cmd, args] that runs the command inside it, events(), remove(), how }.
 * events(): { limitHits, oomKills, usage, peak (MiB charged to it) } so far. The process and its
 * children (ffmpeg) count together; pages of files already in the page cache (the node binary)
 * stay charged to whoever read them first, so usage is mostly the processes' own memory.
 */
export function makeMemoryLimit(bytes, name) {
  const own = ownMemoryCgroup();
  if (!own) return { why: 'no memory cgroup found for this process' };
  const dir = join(own.dir, `edgecam-bench-${name}-${process.pid}`);
  try {
    mkdirSync(dir);
    if (own.v === 1) {
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(bytes));
      // memsw (memory + swap) may be missing when the kernel does not account swap.
      if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(bytes));
    } else {
      writeFileSync(join(dir, 'memory.max'), String(bytes));
      if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
    }
  } catch (err) {
    try {
      rmdirSync(dir);
    } catch {
      // never made
    }
    return { why: `cannot make a memory cgroup under ${own.dir}: ${err.code ?? err.message}` };
  }
  const procs = join(dir, 'cgroup.procs');
  const read = (file) => {
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch {
      return '';
    }
  };
  return {
    how: own.v === 1 ? `cgroup v1 memory.limit_in_bytes (and memsw) = ${bytes} under ${own.dir}` : `cgroup v2 memory.max = ${bytes}, memory.swap.max = 0 under ${own.dir}`,
    // The shell puts itself in the cgroup, then becomes the command: its pid is the command's.
    wrap: (cmd, args) => ['/bin/sh', ['-c', `echo $$ > '${procs}' && exec "$@"`, 'sh', cmd, ...args]],
    events: () => {
      const mib = (file) => Number(read(file).trim() || NaN) / 1048576;
      if (own.v === 1) {
        const oom = /oom_kill (\d+)/.exec(read('memory.oom_control'));
        return { limitHits: Number(read('memory.failcnt').trim() || 0), oomKills: oom ? Number(oom[1]) : NaN, usage: mib('memory.usage_in_bytes'), peak: mib('memory.max_usage_in_bytes') };
      }
      const ev = read('memory.events');
      const field = (k) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(ev)?.[1] ?? 0);
      return { limitHits: field('max'), oomKills: field('oom_kill'), usage: mib('memory.current'), peak: mib('memory.peak') };
    },
    /** Removes the cgroup once its processes are gone (retried briefly: the kernel lags). */
    remove: async () => {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  };
}
