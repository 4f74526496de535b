#!/usr/bin/env node
// Bundles a package's command (its tsc output, dist/cli.js) into one CommonJS file,
// dist/bundle/cli.cjs, with esbuild; its bin runs it with V8's code cache (@edgecam/runtime's
// runBundle), which Node 20 has for CommonJS scripts and not for ES modules. One file instead of
// several hundred modules is most of a command's start-up and a good part of a small server's
// memory (BENCHMARKS.md, "Footprint", "Start-up" and "Recording"). What the code imports with
// `await import()` (a feature's runner, a command) is in the file but runs, and is compiled, only
// when used. Run by each package's build: `node ../../tools/bundle-cli.mjs [PACKAGE_DIR]`
// (default: the current folder).
//
// What it leaves out or changes, and why:
// - Packages loaded only on demand stay in node_modules, loaded from there when asked for:
//   WebRTC (werift), MQTT, pino-pretty, yaml, selfsigned, prom-client.
// - rxjs is taken from its ES2015 modules: Node's `node` export condition points at its CommonJS
//   build, which esbuild cannot tree-shake (all of rxjs, about 340 KB, instead of what is used).
// - zod's error messages in other languages (its `locales`, about 350 KB) are left out: zod
//   speaks English unless told otherwise, and nothing here tells it otherwise (`z.locales.en`
//   stays).
// - `import.meta.url` is the bundle's own file URL, as it was in an ES module; the code is strict,
//   as ES modules are.
// - Whitespace and comments are removed (V8 keeps a module's whole source in memory); names are
//   kept, so stack traces name their functions. A source map beside the file maps them back
//   when node runs with --enable-source-maps (runBundle then loads it without the code cache).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const ON_DEMAND = ['werift', 'mqtt', 'pino-pretty', 'yaml', 'selfsigned', 'prom-client'];

/** rxjs (and rxjs/operators) from its side-effect-free ES2015 build. */
const rxjsModules = {
  name: 'rxjs-esm',
  setup(b) {
    b.onResolve({ filter: /^rxjs(\/operators)?$/ }, (args) => {
      const root = dirname(createRequire(join(args.resolveDir, 'x.js')).resolve('rxjs/package.json'));
      return { path: join(root, 'dist', 'esm', args.path === 'rxjs' ? 'index.js' : 'operators/index.js') };
    });
  },
};

/** zod's `locales` namespace with English only. */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer) ? { path: join(args.resolveDir, '..', 'locales', 'en.js'), namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

const root = process.argv[2] ?? process.cwd();
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'cli.js')],
  outfile: join(outdir, 'cli.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ON_DEMAND,
  plugins: [rxjsModules, zodEnglishOnly],
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  define: { 'import.meta.url': 'edgecamBundleUrl' },
  // import() becomes require(): a script V8 takes from the code cache has lost Node's import()
  // callback (Node 20), and each package left out (above) can be required.
  supported: { 'dynamic-import': false },
  banner: { js: "'use strict';const edgecamBundleUrl=require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// What supported: { 'dynamic-import': false } promises, checked: run from the code cache, an import() would throw.
if (/\bimport\s*\(/.test(readFileSync(join(outdir, 'cli.cjs'), 'utf8'))) throw new Error(`${join(outdir, 'cli.cjs')} still has an import(); make it a require() (see supported: in tools/bundle-cli.mjs)`);
