#!/usr/bin/env node
// The installed command. It is committed (npm links a bin only if its file exists at install
// time) and runs the bundled server (tools/bundle-cli.mjs, made by the build) with its code cache;
// in a checkout that has not been built yet it says how to build.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { runBundle } from '@edgecam/runtime/run-bundle';

// V8's young generation starts at 1 MiB and doubles up to 16 MiB per semi-space while a server
// allocates (32 MiB of a 256 MB board), and every frame buffer that died in it stays allocated
// until the next scavenge. Kept at its first size, it is collected often and cheaply (what
// survives a scavenge is small: sessions, not frames), and RSS stays flat. A node started with
// its own semi-space flags (node --max-semi-space-size=16, NODE_OPTIONS) keeps them.
const given = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
if (!/--(max|min)-semi-space-size|--semi-space-growth-factor/.test(given)) setFlagsFromString('--semi-space-growth-factor=1');

const cli = new URL('../dist/bundle/cli.cjs', import.meta.url);
if (!existsSync(cli)) {
  console.error('edgecam-server is not built yet: run `npm run build` in the repository first (npm start and npm test build it too).');
  process.exit(2);
}
runBundle(fileURLToPath(cli));
