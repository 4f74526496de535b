// Runs a command's bundle (tools/bundle-cli.mjs: one CommonJS file) with V8's code cache kept
// beside it. Node 20 caches no compiled code for ES modules (module.enableCompileCache is Node 22),
// and parsing, compiling and the module loader were a fifth of edgecam-server's start-up.
// The cache file is the SHA-256 of the bundle it was made from, then V8's code cache. V8 checks
// its own part against its version, its flags and a checksum, but against the source only by
// length, so the hash is what keeps a rebuilt bundle from running an old build's code. A run that
// found no cache, a damaged or a stale one writes a fresh one once it has run a while: only beside
// the bundle (a folder its owner can write, never a shared one such as /tmp), atomically, and not
// at all where that fails.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** How long a run that wrote no cache yet waits before writing one (compiled by then: start-up and the first requests). */
const WRITE_AFTER_MS = 10_000;

export interface BundleRun {
  /** Whether V8 took the compiled code from the cache file (false: none, stale or damaged; compiled from source). */
  cached: boolean;
}

/**
 * Runs the CommonJS bundle at `file` in this process, with its code cache `file + '.cache'`.
 * The bundle must not use import(): a script compiled from V8's code cache has lost Node's import()
 * callback (Node 20). It has require(), relative to its own folder.
 */
export function runBundle(file: string): BundleRun {
  // Node maps stack traces back through a source map only for what its own loaders load (not a
  // vm.Script), so with --enable-source-maps the bundle is required as a module, compiled afresh.
  if (process.sourceMapsEnabled) {
    createRequire(file)(file);
    return { cached: false };
  }
  const cacheFile = `${file}.cache`;
  const bytes = readFileSync(file);
  const hash = createHash('sha256').update(bytes).digest();
  let cachedData: Buffer | undefined;
  try {
    const cache = readFileSync(cacheFile);
    if (cache.subarray(0, hash.length).equals(hash)) cachedData = cache.subarray(hash.length);
  } catch {
    // none yet: compiled from source, and written below
  }
  // The wrapper goes on the first line, whose `#!` comment it replaces: stack traces keep the bundle's line numbers.
  const source = bytes.toString('utf8').replace(/^#!.*/, '');
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const cached = cachedData !== undefined && !script.cachedDataRejected;
  if (!cached) {
    const write = (): void => {
      process.off('exit', write);
      clearTimeout(timer);
      const temp = `${cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(temp, Buffer.concat([hash, script.createCachedData()]));
        renameSync(temp, cacheFile);
      } catch {
        // A folder this user cannot write (an installed package, a read-only image): runs compile from source.
        rmSync(temp, { force: true });
      }
    };
    const timer = setTimeout(write, WRITE_AFTER_MS).unref();
    process.on('exit', write);
  }
  const module = { exports: {} };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { cached };
}
