// runBundle in a child process each time, as a bin runs it: a run without a cache compiles from
// source and leaves one behind when it exits; the next run takes its code from it; a damaged or
// stale cache is ignored and replaced; a cache that cannot be written changes nothing.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const runBundleUrl = new URL('../dist/run-bundle.js', import.meta.url).href;

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A bundle in a fresh folder, with a module beside it that it requires by a relative path. */
function bundle(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-run-bundle-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'beside.cjs'), "module.exports = 'beside';\n");
  const file = join(dir, 'cli.cjs');
  writeBody(file, body);
  return file;
}

/** The bundle's text as the bundle tool writes it: a `#!` line, strict mode, the code. */
function writeBody(file: string, body: string): void {
  writeFileSync(file, `#!/usr/bin/env node\n'use strict';\n${body}\n`);
}

/** Runs the bundle in a new node; its output, then runBundle's answer as the last line. */
function run(file: string, nodeArgs: string[] = []): { out: string[]; cached: boolean } {
  const script = `import { runBundle } from ${JSON.stringify(runBundleUrl)}; const r = runBundle(${JSON.stringify(file)}); process.on('exit', () => console.log(JSON.stringify(r)));`;
  const lines = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8' }).trim().split('\n');
  const answer = JSON.parse(lines.pop()!) as { cached: boolean };
  return { out: lines, cached: answer.cached };
}

const BODY = `function twice(x) { return x * 2; }
process.stdout.write([require('./beside.cjs'), require('node:path').basename(__filename), twice(21)].join(' ') + '\\n');`;

describe('runBundle', () => {
  it('compiles a bundle from source the first time, leaves its code cache at exit, and takes the code from it the next time', () => {
    const file = bundle(BODY);
    const first = run(file);
    expect(first).toEqual({ out: ['beside cli.cjs 42'], cached: false });
    expect(readFileSync(`${file}.cache`).length).toBeGreaterThan(0);
    expect(run(file)).toEqual({ out: ['beside cli.cjs 42'], cached: true });
    // Written through a temporary file, renamed into place: none is left.
    expect(readdirSync(join(file, '..')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('ignores a damaged cache and one made for other source, and replaces it', () => {
    const file = bundle(BODY);
    run(file);
    const cache = readFileSync(`${file}.cache`);
    writeFileSync(`${file}.cache`, cache.subarray(0, cache.length >> 1));
    expect(run(file)).toEqual({ out: ['beside cli.cjs 42'], cached: false });
    expect(run(file).cached).toBe(true);

    // Other source of the same length: V8 alone would take the old code (it checks the length only).
    writeBody(file, BODY.replace('21', '50'));
    expect(run(file)).toEqual({ out: ['beside cli.cjs 100'], cached: false });
    expect(run(file)).toEqual({ out: ['beside cli.cjs 100'], cached: true });
  });

  it('runs as before where the cache cannot be written', () => {
    const file = bundle(BODY);
    // A folder where the cache file would go: it can be neither read nor replaced (even by root).
    mkdirSync(`${file}.cache`);
    expect(run(file)).toEqual({ out: ['beside cli.cjs 42'], cached: false });
    expect(run(file)).toEqual({ out: ['beside cli.cjs 42'], cached: false });
    expect(readdirSync(join(file, '..')).sort()).toEqual(['beside.cjs', 'cli.cjs', 'cli.cjs.cache']);
  });

  it('with --enable-source-maps, runs the bundle through Node\'s loader so stack traces map back to the sources', () => {
    // Line 3 of the file (the one that throws) maps to line 7 of original.ts.
    const file = bundle("try { throw new Error('x'); } catch (e) { process.stdout.write(e.stack.split('\\n')[1].trim() + '\\n'); }\n//# sourceMappingURL=cli.cjs.map");
    writeFileSync(`${file}.map`, JSON.stringify({ version: 3, sources: ['original.ts'], names: [], mappings: ';;AAMA' }));
    const { out, cached } = run(file, ['--enable-source-maps']);
    expect(cached).toBe(false);
    expect(out[0]).toMatch(/original\.ts:7:\d+/);
    expect(readdirSync(join(file, '..')).sort()).toEqual(['beside.cjs', 'cli.cjs', 'cli.cjs.map']);
  });
});
