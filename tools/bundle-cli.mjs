#!/usr/bin/env node
// Bundles a package's command (its tsc output, dist/cli.js) into dist/bundle/ for its bin, with
// esbuild. One file instead of several hundred modules is most of a command's start-up and a
// good part of a small server's memory (BENCHMARKS.md, "Footprint" and "Recording"). Modules the
// code imports with `await import()` (a feature's runner, a command) stay chunks of their own,
// loaded only when used. Run by each package's build: `node ../../tools/bundle-cli.mjs [PACKAGE_DIR]`
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
// - Whitespace and comments are removed (V8 keeps a module's whole source in memory); names are
//   kept, so stack traces name their functions. A source map beside each file maps them back
//   when node runs with --enable-source-maps.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
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
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ON_DEMAND,
  plugins: [rxjsModules, zodEnglishOnly],
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  // CommonJS dependencies (commander, pino) call require() for Node's modules.
  banner: { js: "import { createRequire as edgecamCreateRequire } from 'node:module'; const require = edgecamCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
