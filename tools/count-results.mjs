#!/usr/bin/env node
// Sums vitest JSON reports (one per package) into the single line CI reads:
// "N passed, M failed". A test file that failed to load counts as one failure,
// because vitest reports it as a failed suite with no tests in it.
// Exits 1 when anything failed or when no report was found, and with --no-skips (CI) when a test
// was skipped: there a missing player must not pass unnoticed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const noSkips = process.argv.includes('--no-skips');
if (!dir) {
  console.error('usage: count-results.mjs DIR [--no-skips]');
  process.exit(2);
}

let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
  const report = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  reports++;
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed++;
  }
}
if (reports === 0) failed++;
if (noSkips && skipped > 0) {
  console.log(`${skipped} tests were skipped: CI runs every test; install what the skipped tests name and run again`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || (noSkips && skipped > 0) ? 1 : 0);
