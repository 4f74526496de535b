#!/usr/bin/env node
// Bundles the built CLI (dist/cli.js, from tsc) into dist/bundle/ for bin/edgecam.js. Loading
// one file instead of several hundred modules (rxjs alone is ~400) is most of a one-shot
// command's start-up: BENCHMARKS.md, "Recording", has the figures. Each command's module stays
// a chunk of its own, loaded only when that command runs. pino stays outside: its transports
// run in worker threads that load pino's own files by path.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${root}dist/cli.js`],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['pino', 'pino-pretty'],
  // CommonJS dependencies (commander, rxjs's node build) call require() for Node's modules.
  banner: { js: "import { createRequire as edgecamCreateRequire } from 'node:module'; const require = edgecamCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
