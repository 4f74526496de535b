// A package's own version, read from its package.json at run time: one folder above the module
// when it runs from dist/ (tsc's output), two when it runs from dist/bundle/ (esbuild's bundle).
import { readFileSync } from 'node:fs';

/** The version in the package.json named `name` one or two folders above `moduleUrl` (import.meta.url), or '0.0.0'. */
export function packageVersion(moduleUrl: string, name: string): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, moduleUrl), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? '0.0.0';
    } catch {
      // not this one
    }
  }
  return '0.0.0';
}
