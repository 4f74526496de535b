#!/usr/bin/env node
// `npm test`: installs the players the interop tests need (as root, with apt-get, when missing),
// runs every package's vitest suite through Nx, and ends with one line "N passed, M failed"
// (", K skipped" when a player could not be had). Under CI=true a skipped test is a failure, so
// nothing is silently lost there.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLAYERS } from './players.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const ci = process.env.CI === 'true' || process.env.CI === '1';

function installMissingPlayers() {
  const missing = Object.entries(PLAYERS).filter(([, p]) => !p.present());
  if (missing.length === 0) return;
  const packages = missing.flatMap(([, p]) => p.packages);
  const names = missing.map(([n]) => n).join(', ');
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    console.log(`test: ${names} missing and not installable here (needs root and apt-get); their tests will be skipped`);
    return;
  }
  console.log(`test: installing ${packages.join(' ')} for the interop tests (${names})`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
  if (!(apt(['update', '-qq']) && apt(['install', '-y', '-qq', '--no-install-recommends', ...packages]))) {
    console.log(`test: could not install ${packages.join(' ')}; the tests that need them will be skipped`);
  }
}

installMissingPlayers();

const results = join(root, '.vitest-results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });
const nx = spawnSync('npx', ['nx', 'run-many', '-t', 'test', '--parallel=1', '--outputStyle=stream', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, EDGECAM_VITEST_JSON: results, NX_NO_CLOUD: 'true', NX_TUI: 'false' },
});
const count = spawnSync(process.execPath, [join(root, 'tools/count-results.mjs'), results, ...(ci ? ['--no-skips'] : [])], {
  stdio: 'inherit',
});
process.exit(nx.status !== 0 || count.status !== 0 ? 1 : 0);
