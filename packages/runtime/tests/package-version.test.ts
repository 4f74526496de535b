import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { packageVersion } from '../src/package-version.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A package folder named `name` at `version`, with dist/ and dist/bundle/ inside. */
function packageDir(name: string, version: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-version-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'dist', 'bundle'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version }));
  return dir;
}

describe('packageVersion', () => {
  it("reads the package's version from dist/ and from dist/bundle/", () => {
    const dir = packageDir('@edgecam/x', '1.2.3');
    expect(packageVersion(pathToFileURL(join(dir, 'dist', 'cli.js')).href, '@edgecam/x')).toBe('1.2.3');
    expect(packageVersion(pathToFileURL(join(dir, 'dist', 'bundle', 'cli.js')).href, '@edgecam/x')).toBe('1.2.3');
  });

  it('skips a package.json of another name on the way and says 0.0.0 when there is none', () => {
    const dir = packageDir('@edgecam/x', '1.2.3');
    writeFileSync(join(dir, 'dist', 'package.json'), JSON.stringify({ name: 'other', version: '9.9.9' }));
    expect(packageVersion(pathToFileURL(join(dir, 'dist', 'bundle', 'cli.js')).href, '@edgecam/x')).toBe('1.2.3');
    expect(packageVersion(pathToFileURL(join(dir, 'dist', 'bundle', 'cli.js')).href, '@edgecam/y')).toBe('0.0.0');
  });
});
