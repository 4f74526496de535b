// `edgecam-server install-service [--dry-run]`: puts the shipped systemd unit in place, pointing at
// this installation's node and edgecam-server, creates /etc/edgecam/edgecam.yaml from the example
// when there is none, and enables the service. --dry-run prints the same plan and writes nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the unit and the config go; the unit's ExecStart names CONFIG_PATH. */
export const UNIT_PATH = '/etc/systemd/system/edgecam-server.service';
export const CONFIG_PATH = '/etc/edgecam/edgecam.yaml';

const packageFile = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));

/** One file the installation writes, or keeps when it is already there. */
export interface PlannedFile {
  path: string;
  text: string;
  keep: boolean;
}

/** What install-service does: the files, then the commands. */
export interface ServicePlan {
  files: PlannedFile[];
  commands: string[][];
}

/** A path as a unit file's command line needs it: quoted when it holds a space. */
const unitArg = (s: string) => (/[\s"\\]/.test(s) ? `"${s.replace(/["\\]/g, '\\$&')}"` : s);

/** The plan for this installation: `node` runs `bin`; `configExists` keeps a config already there. */
export function planServiceInstall(node: string, bin: string, configExists: boolean): ServicePlan {
  const unit = readFileSync(packageFile('systemd/edgecam-server.service'), 'utf8').replace(
    /^ExecStart=\S+/m,
    `ExecStart=${unitArg(node)} ${unitArg(bin)}`,
  );
  // The example names its schema relative to itself; from /etc/edgecam point at the installed one.
  const config = readFileSync(packageFile('edgecam.example.yaml'), 'utf8').replace(
    /\$schema=\S+/,
    `$schema=${packageFile('edgecam.schema.json')}`,
  );
  return {
    files: [
      { path: UNIT_PATH, text: unit, keep: false },
      { path: CONFIG_PATH, text: config, keep: configExists },
    ],
    commands: [
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', '--now', 'edgecam-server.service'],
    ],
  };
}

/** Why this installation cannot run as the service, or undefined when it can. */
function unusableFromService(paths: string[]): string | undefined {
  const hidden = paths.find((p) => /^\/(home|root|run\/user)\//.test(p));
  if (hidden) {
    return `${hidden} is under a home directory, which the service cannot see (ProtectHome=yes); install Node system-wide (NodeSource's package or the official tarball in /usr/local) and run npm install -g as root`;
  }
  return undefined;
}

/** Runs the command; returns the exit code. `out` and `err` take whole lines. */
export function runInstallService(
  args: string[],
  out: (line: string) => void = (l) => process.stdout.write(l + '\n'),
  err: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): number {
  const dryRun = args.includes('--dry-run');
  const unknown = args.find((a) => a !== '--dry-run');
  if (unknown !== undefined) {
    err(unknown === '--help' || unknown === '-h'
      ? 'usage: edgecam-server install-service [--dry-run]: install and start the systemd service (as root); --dry-run prints what it would do'
      : `edgecam-server install-service: unknown argument ${JSON.stringify(unknown)}; it takes only --dry-run`);
    return unknown === '--help' || unknown === '-h' ? 0 : 2;
  }
  const bin = packageFile('bin/edgecam-server.js');
  const plan = planServiceInstall(process.execPath, bin, existsSync(CONFIG_PATH));
  const problem = unusableFromService([process.execPath, bin]);
  if (dryRun) {
    if (problem) err(`edgecam-server install-service: ${problem}`);
    for (const f of plan.files) {
      if (f.keep) {
        out(`# ${f.path} exists: kept as it is`);
        continue;
      }
      out(`# would write ${f.path}:`);
      out(f.text.trimEnd());
      out('');
    }
    for (const c of plan.commands) out(`# would run: ${c.join(' ')}`);
    return problem ? 1 : 0;
  }
  if (problem) {
    err(`edgecam-server install-service: ${problem}`);
    return 1;
  }
  if (process.getuid?.() !== 0) {
    err('edgecam-server install-service: it writes to /etc and runs systemctl, so it needs root: run it with sudo (or add --dry-run to see what it would do)');
    return 1;
  }
  if (!existsSync('/run/systemd/system')) {
    err('edgecam-server install-service: this system is not running systemd; start edgecam-server --config /etc/edgecam/edgecam.yaml from your init system instead');
    return 1;
  }
  for (const f of plan.files) {
    if (f.keep) {
      out(`${f.path} exists: kept as it is`);
      continue;
    }
    out(`writing ${f.path}`);
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.text, { mode: 0o644 });
  }
  for (const c of plan.commands) {
    out(`running ${c.join(' ')}`);
    const r = spawnSync(c[0]!, c.slice(1), { stdio: 'inherit' });
    if (r.status !== 0) {
      err(`edgecam-server install-service: ${c.join(' ')} failed${r.error ? ` (${r.error.message})` : ''}; see journalctl -u edgecam-server for the service's side`);
      return 1;
    }
  }
  out('edgecam-server runs as a service: systemctl status edgecam-server, journalctl -u edgecam-server -f; settings in /etc/edgecam/edgecam.yaml, then systemctl restart edgecam-server');
  return 0;
}
