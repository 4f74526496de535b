// For tests (the `@edgecam/discovery/netns` entry): a LAN of its own made of network namespaces,
// so that mDNS can be tested for real without a packet reaching the machine's own network.
// Needs root and iproute2 (`ip netns`). Two hosts are joined by a veth pair; one host alone has
// a veth pair of its own (an address that is not loopback, and nobody on the other end). Processes are started inside
// with `ip netns exec`; close() kills them and deletes the namespaces.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { threadId } from 'node:worker_threads';

export interface LanHost {
  /** The namespace's name. */
  readonly ns: string;
  /** Its address on the LAN (10.77.0.N). */
  readonly address: string;
}

export interface LanOptions {
  /** 2: two namespaces joined by a veth pair (default); 1: one namespace alone. */
  hosts?: 1 | 2;
  /** Routes 224.0.0.0/4 to the LAN interface (default true); without it a multicast send fails with ENETUNREACH, as on a machine with no default route. */
  multicastRoute?: boolean;
}

export interface TestLan {
  readonly hosts: readonly LanHost[];
  /** Runs a command inside a host's namespace; the child is killed by close(). */
  spawn(host: LanHost, command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Runs a command inside a host's namespace to its end; its stdout. */
  run(host: LanHost, command: string, args: readonly string[]): string;
  /** Kills what spawn() started (SIGTERM, then SIGKILL after 5 s) and deletes the namespaces. Idempotent. */
  close(): Promise<void>;
}

// edgecam-PID-THREAD-N: unique across test files run in parallel, in processes or in threads.
const PREFIX = 'edgecam-';
let made = 0;

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Throws, saying why, when this process cannot make namespaces (not root, or no `ip`). */
export function requireNetns(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('these tests make network namespaces (ip netns add), which needs root: run them as root, as CI does');
  }
  try {
    ip(['netns', 'list']);
  } catch (err) {
    throw new Error(`these tests make network namespaces, but \`ip netns\` does not work here (${(err as Error).message.split('\n')[0]}): install iproute2`);
  }
}

/** Deletes namespaces this helper made in processes that are gone (a test run that was killed). */
function removeStale(): void {
  for (const line of ip(['netns', 'list']).split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)-\\d+-\\d+)\\b`).exec(line);
    if (!m) continue;
    const pid = Number(m[2]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) ip(['netns', 'del', m[1]!]);
  }
}

/** Makes the LAN: each namespace with loopback up and the LAN interface `lan0` up, addressed 10.77.0.N/24. */
export function createLan(options: LanOptions = {}): TestLan {
  requireNetns();
  removeStale();
  const count = options.hosts ?? 2;
  const hosts: LanHost[] = Array.from({ length: count }, (_, i) => ({ ns: `${PREFIX}${process.pid}-${threadId}-${++made}`, address: `10.77.0.${i + 1}` }));
  const children = new Set<ChildProcess>();
  const remove = () => {
    for (const h of hosts) {
      try {
        ip(['netns', 'del', h.ns]);
      } catch {
        // never made, or gone already
      }
    }
  };
  try {
    for (const h of hosts) ip(['netns', 'add', h.ns]);
    if (count === 2) ip(['link', 'add', 'lan0', 'netns', hosts[0]!.ns, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', hosts[1]!.ns]);
    // One host: a veth pair inside its namespace, its far end left without an address.
    else {
      ip(['-n', hosts[0]!.ns, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan1']);
      ip(['-n', hosts[0]!.ns, 'link', 'set', 'lan1', 'up']);
    }
    for (const h of hosts) {
      ip(['-n', h.ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'lan0']);
      ip(['-n', h.ns, 'link', 'set', 'lan0', 'up']);
      if (options.multicastRoute !== false) ip(['-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', 'lan0']);
    }
  } catch (err) {
    remove();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    hosts,
    spawn: (host, command, args, spawnOptions = {}) => {
      const child = spawn('ip', ['netns', 'exec', host.ns, command, ...args], spawnOptions);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    run: (host, command, args) => execFileSync('ip', ['netns', 'exec', host.ns, command, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    close: () => {
      closing ??= (async () => {
        await Promise.all(
          [...children].map(
            (child) =>
              new Promise<void>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
                child.once('exit', () => {
                  clearTimeout(kill);
                  resolve();
                });
                child.kill('SIGTERM');
              }),
          ),
        );
        remove();
      })();
      return closing;
    },
  };
}
