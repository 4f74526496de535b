/**
 * A child process needs JavaScript: transpile src/*.ts (no type check; that is tsc's job) into a
 * folder under test-output/, where `@edgecam/protocol` still resolves from the workspace.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** Transpile the package's sources into `outDir`; returns the path of index.js there. */
export async function transpileSources(outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  for (const name of await readdir(SRC)) {
    if (!name.endsWith('.ts')) continue;
    const source = await readFile(join(SRC, name), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      fileName: name,
    });
    await writeFile(join(outDir, name.replace(/\.ts$/, '.js')), outputText);
  }
  return join(outDir, 'index.js');
}
