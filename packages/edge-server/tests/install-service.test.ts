// The systemd unit the package ships, as `edgecam-server install-service --dry-run` renders it for
// this installation: hardened as promised, and accepted by systemd-analyze verify where it exists.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { missingPlayer, titled } from '../../../tools/players.mjs';
import { CONFIG_PATH, UNIT_PATH } from '../src/cli/install-service.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/edgecam-server.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'edgecam-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each run starts a node that loads the whole CLI: slow on a busy machine, so one run serves all.
let dryRunOutput: Promise<string> | undefined;

/** The dry run's stdout, which is the unit, the config (or that it is kept) and the commands. */
function dryRun(): Promise<string> {
  dryRunOutput ??= run(process.execPath, [bin, 'install-service', '--dry-run'], { timeout: 60_000 }).then((r) => r.stdout);
  return dryRunOutput;
}

/** The unit file as the dry run prints it: up to the next `# would …` or `# … exists` line. */
function unitOf(output: string): string {
  const lines = output.split('\n');
  const start = lines.indexOf(`# would write ${UNIT_PATH}:`);
  expect(start).toBeGreaterThanOrEqual(0);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^# (would |\S+ exists: kept)/.test(l));
  return rest.slice(0, end).join('\n').trimEnd() + '\n';
}

/** Every `Key=value` of the unit, in order. */
function settings(unit: string): [string, string][] {
  return unit
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

const noSystemdAnalyze = missingPlayer('systemd-analyze');

describe('edgecam-server install-service --dry-run', { timeout: 90_000 }, () => {
  it('prints the unit with ExecStart on this node and this edgecam-server, the config, and the systemctl commands', async () => {
    const output = await dryRun();
    const unit = unitOf(output);
    expect(settings(unit)).toContainEqual(['ExecStart', `${process.execPath} ${bin} --config ${CONFIG_PATH}`]);
    if (existsSync(CONFIG_PATH)) {
      expect(output).toContain(`# ${CONFIG_PATH} exists: kept as it is`);
    } else {
      expect(output).toContain(`# would write ${CONFIG_PATH}:\n# yaml-language-server: $schema=${fileURLToPath(new URL('../edgecam.schema.json', import.meta.url))}\n`);
      expect(output).toMatch(/^source: v4l2:\/dev\/video0/m);
    }
    expect(output).toContain('# would run: systemctl daemon-reload\n# would run: systemctl enable --now edgecam-server.service\n');
  });

  it('refuses an unknown argument in one line naming it', async () => {
    const r = spawnSync(process.execPath, [bin, 'install-service', '--force'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('edgecam-server install-service: unknown argument "--force"; it takes only --dry-run\n');
  });
});

describe('the shipped systemd unit', { timeout: 90_000 }, () => {
  it('runs as a dynamic user in group video, with only the state directory writable and only V4L2 devices', async () => {
    const s = settings(unitOf(await dryRun()));
    for (const pair of [
      ['DynamicUser', 'yes'],
      ['SupplementaryGroups', 'video'],
      ['StateDirectory', 'edgecam'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateDevices', 'no'],
      ['DevicePolicy', 'closed'],
      ['DeviceAllow', 'char-video4linux rw'],
      ['NoNewPrivileges', 'yes'],
      ['Restart', 'on-failure'],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX AF_NETLINK'],
    ]) {
      expect(s).toContainEqual(pair);
    }
    // V8 compiles to memory it then executes.
    expect(s.map(([k]) => k)).not.toContain('MemoryDenyWriteExecute');
  });

  it.skipIf(noSystemdAnalyze)(titled('passes systemd-analyze verify', noSystemdAnalyze), async () => {
    const unitFile = join(dir, 'edgecam-server.service');
    writeFileSync(unitFile, unitOf(await dryRun()));
    const r = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    // The only complaint allowed is an older systemd (before 254) not knowing the backoff keys.
    const complaints = r.stderr.split('\n').filter((l) => l && !/Unknown key '(RestartSteps|RestartMaxDelaySec)'/.test(l));
    expect(complaints).toEqual([]);
  });
});
