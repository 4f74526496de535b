// Loads the naive seed implementation (TypeScript in tools/src/naive-seed, compiled to
// tools/dist by `npm run build`, or `npx tsc -p tools/tsconfig.build.json`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../../dist/naive-seed/index.js', import.meta.url));

export async function loadNaiveSeed() {
  if (!existsSync(entry)) {
    throw new Error(`${entry} is missing: build the tools first (npm run build, or npx tsc -p tools/tsconfig.build.json)`);
  }
  return import(pathToFileURL(entry).href);
}
