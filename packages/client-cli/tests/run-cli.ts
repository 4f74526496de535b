import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inject } from 'vitest';
import { sleep } from './wait-for.js';

/** The installed command, which runs the bundle (global-setup compiles and bundles it before the tests run). */
export const CLI = resolve(import.meta.dirname, '../bin/edgecam.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A fresh empty folder to run the CLI in, so the files it leaves can be listed exactly. */
export function tempDir(prefix = 'run-'): string {
  return mkdtempSync(join(inject('tmpRoot'), prefix));
}

/** Environment for the child: ours, minus any EDGECAM_* that would change its defaults. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('EDGECAM_')) env[k] = v;
  return { ...env, ...extra };
}

export interface SpawnOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Kill after this long (the test then fails on the exit code). */
  killAfterMs?: number;
}

/** Starts `node bin/edgecam.js ...args` and gives access to the child while it runs. */
export function spawnCli(args: string[], opts: SpawnOptions): {
  child: ChildProcessWithoutNullStreams;
  done: Promise<CliRun>;
  output: () => { stdout: string; stderr: string };
  waitForOutput: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
} {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: childEnv(opts.env ?? {}) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (opts.input !== undefined) child.stdin.end(opts.input);
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 25_000);
  const done = new Promise<CliRun>((resolveRun) =>
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolveRun({ code, signal, stdout, stderr });
    }),
  );
  const waitForOutput = async (re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> => {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const m = stdout.match(re) ?? stderr.match(re);
      if (m !== null) return m;
      if (performance.now() > until || child.exitCode !== null) {
        throw new Error(`no output matching ${re} (stdout: ${JSON.stringify(stdout)}, stderr: ${JSON.stringify(stderr)})`);
      }
      await sleep(25);
    }
  };
  return { child, done, output: () => ({ stdout, stderr }), waitForOutput };
}

/** Runs the CLI to the end. */
export function runCli(args: string[], opts: SpawnOptions): Promise<CliRun> {
  return spawnCli(args, opts).done;
}
