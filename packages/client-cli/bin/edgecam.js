#!/usr/bin/env node
// The installed command. It is committed (npm links a bin only if its file exists at install
// time) and runs the bundled CLI (tools/bundle-cli.mjs) with its code cache; in a checkout that
// has not been built yet it says how to build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runBundle } from '@edgecam/runtime/run-bundle';

const cli = new URL('../dist/bundle/cli.cjs', import.meta.url);
if (!existsSync(cli)) {
  console.error('edgecam is not built yet: run `npm run build` in the repository first (npm start and npm test build it too).');
  process.exit(2);
}
runBundle(fileURLToPath(cli));
