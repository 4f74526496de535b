// Small helpers every benchmark shares: statistics, rounding, the standalone CLI and its table.
import { pathToFileURL } from 'node:url';

/** Median, min, max and count of a list of numbers. */
export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN, runs: sorted.length };
}

/** The p-th percentile (0..100) of an already sorted list, nearest rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const round = (n, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** A ratio's stats rounded for the BenchResult. */
export function ratioOf(values, d = 2) {
  const s = stats(values);
  return { median: round(s.median, d), min: round(s.min, d), max: round(s.max, d), runs: s.runs };
}

/** `names` turned left by `r` places: each run starts with another, so none always runs right
 * after the same neighbour (and its GC debt). */
export function rotated(names, r) {
  const k = r % names.length;
  return [...names.slice(k), ...names.slice(0, k)];
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function printTable(result) {
  const cols = Object.keys(result.rows[0] ?? {});
  const widths = cols.map((c) => Math.max(c.length, ...result.rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells) => cells.map((s, i) => String(s ?? '').padEnd(widths[i])).join('  ');
  console.log(`${result.title}\n`);
  console.log(line(cols));
  for (const r of result.rows) console.log(line(cols.map((c) => r[c])));
  const verdict = result.goalMet === null ? 'not judged in --quick' : result.goalMet ? 'met' : 'NOT met';
  console.log(
    `\nratio vs ${result.baseline}: ${result.ratio.median} (min ${result.ratio.min}, max ${result.ratio.max}, ${result.ratio.runs} runs); goal ${result.goal}: ${verdict}`,
  );
  for (const n of result.notes) console.log(`- ${n}`);
}

/** `node tools/bench/<id>.mjs [--quick] [--json]`: runs the module's run() when it is the entry point. */
export async function runStandalone(metaUrl, run) {
  if (!process.argv[1] || metaUrl !== pathToFileURL(process.argv[1]).href) return;
  const args = process.argv.slice(2);
  const result = await run({ quick: args.includes('--quick') });
  if (args.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else printTable(result);
}
