// Runs agent.mjs in a namespace of a test LAN and reads its JSON lines, waiting for the event a
// test needs with a generous deadline as its only clock.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LanHost, TestLan } from '../../src/netns.js';

const AGENT = fileURLToPath(new URL('agent.mjs', import.meta.url));

export type AgentEvent = { event: string; [key: string]: unknown };

export interface Agent {
  readonly child: ChildProcess;
  readonly events: AgentEvent[];
  /** The first event (from the start) that `match` accepts; throws after `timeoutMs`, naming what was seen. */
  next(match: (e: AgentEvent) => boolean, timeoutMs?: number): Promise<AgentEvent>;
  /** SIGTERM, then the exit. */
  stop(): Promise<void>;
  stderr(): string;
}

export function agent(lan: TestLan, host: LanHost, role: string, ...args: string[]): Agent {
  const child = lan.spawn(host, process.execPath, [AGENT, role, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: AgentEvent[] = [];
  const waiters = new Set<() => void>();
  let rest = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    const lines = (rest + s).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line) as AgentEvent);
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  // 'close' comes after the last of stdout: every line is read by then.
  let closed = false;
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      closed = true;
      for (const w of waiters) w();
      resolve();
    }),
  );
  const next = (match: (e: AgentEvent) => boolean, timeoutMs = 15_000) =>
    new Promise<AgentEvent>((resolve, reject) => {
      const check = () => {
        const found = events.find(match);
        if (found) return done(() => resolve(found));
        if (closed) {
          done(() => reject(new Error(`${role} ended (${child.exitCode ?? child.signalCode}) before the event; it said ${JSON.stringify(events)} ${err}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms; ${role} said ${JSON.stringify(events)} ${err}`))), timeoutMs);
      const done = (then: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        then();
      };
      waiters.add(check);
      check();
    });
  return {
    child,
    events,
    next,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    stderr: () => err,
  };
}
