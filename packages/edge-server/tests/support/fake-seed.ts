// The seed's camera server as a child process (fake_seed_server.py: threads, one global stream
// flag, `Unknown command` written into the stream, a sender that outlives its connection), so a
// test can kill it under a gateway and start it again on the same port. Its printed lines are its log;
// it exits by itself when its stdin (a pipe from this process) ends, so a test that dies leaves none behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './wait.js';

const SCRIPT = fileURLToPath(new URL('./fake_seed_server.py', import.meta.url));

export interface FakeSeed {
  readonly port: number;
  /** Every line it printed, over all its runs. */
  readonly log: string[];
  /** Lines of the current run only. */
  runLog(): string[];
  /** The commands it read (each recv() after decode and strip, as Python's repr without its quotes), over all its runs. */
  commands(): string[];
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Kills it and removes its frames. */
  close(): Promise<void>;
}

export interface FakeSeedOptions {
  jpegs: Buffer[];
  fps?: number;
  /** 0 (default): any free port. */
  port?: number;
}

/** Starts the fake seed server on 127.0.0.1 and waits until it listens. */
export async function startFakeSeed(o: FakeSeedOptions): Promise<FakeSeed> {
  const dir = mkdtempSync(join(tmpdir(), 'edgecam-seed-'));
  o.jpegs.forEach((jpeg, i) => writeFileSync(join(dir, `${String(i).padStart(4, '0')}.jpg`), jpeg));
  const log: string[] = [];
  let runStart = 0;
  let child: ChildProcess | null = null;
  let port = o.port ?? 0;

  const launch = async (): Promise<void> => {
    runStart = log.length;
    const c = spawn('python3', ['-u', SCRIPT, String(port), dir, String(o.fps ?? 10)], { stdio: ['pipe', 'pipe', 'pipe'] });
    child = c;
    let exited = false;
    c.once('exit', () => (exited = true));
    let rest = '';
    const onText = (text: string) => {
      rest += text;
      const lines = rest.split('\n');
      rest = lines.pop()!;
      log.push(...lines);
    };
    c.stdout!.setEncoding('utf8').on('data', onText);
    c.stderr!.setEncoding('utf8').on('data', onText);
    await waitUntil(() => exited || log.slice(runStart).some((l) => l.startsWith('listening on ')), 10_000, 'the fake seed server to listen');
    const line = log.slice(runStart).find((l) => l.startsWith('listening on '));
    if (!line) throw new Error(`the fake seed server did not start: ${log.slice(runStart).join('\n')}`);
    port = Number(line.slice('listening on '.length));
  };

  const kill = async (): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGKILL');
    await gone;
  };

  await launch();
  return {
    get port() {
      return port;
    },
    log,
    runLog: () => log.slice(runStart),
    commands: () => log.flatMap((l) => (l.startsWith('received command: ') ? [l.slice('received command: '.length).replace(/^'(.*)'$/, '$1')] : [])),
    kill,
    restart: launch,
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
