// On Linux, ffmpeg is started through util-linux's `setpriv --pdeathsig KILL`, so the kernel
// kills it the moment this process dies, even by SIGKILL, when no exit hook of ours can run.
// Without setpriv (or one too old for --pdeathsig) it is started directly, as elsewhere.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

let setpriv: string | null | undefined;

/** The setpriv binary on PATH if it knows --pdeathsig; looked up once. */
function findSetpriv(): string | null {
  if (setpriv !== undefined) return setpriv;
  setpriv = null;
  if (process.platform !== 'linux') return setpriv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'setpriv');
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    const help = spawnSync(candidate, ['--help'], { encoding: 'utf8', timeout: 2000 });
    if (help.status === 0 && help.stdout.includes('--pdeathsig')) setpriv = candidate;
    break;
  }
  return setpriv;
}

/** The command and arguments that run `command args` and end it when this process dies, where the system can. */
export function dieWithParent(command: string, args: string[]): { command: string; args: string[]; guarded: boolean } {
  const wrapper = findSetpriv();
  return wrapper ? { command: wrapper, args: ['--pdeathsig', 'KILL', '--', command, ...args], guarded: true } : { command, args, guarded: false };
}
