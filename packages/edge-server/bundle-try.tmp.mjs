import { build } from 'esbuild';
const root = process.cwd() + '/';
const minify = process.env.MINIFY === '1';
const r = await build({
  entryPoints: [`${root}dist/cli.js`], outdir: '/tmp/fp/bundle', bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20',
  external: ['pino', 'pino-pretty', 'werift', 'mqtt', 'selfsigned', 'yaml'], minify, keepNames: false, metafile: true,
  banner: { js: "import { createRequire as edgecamCreateRequire } from 'node:module'; const require = edgecamCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
const { writeFileSync } = await import('node:fs');
writeFileSync('/tmp/fp/meta.json', JSON.stringify(r.metafile));
