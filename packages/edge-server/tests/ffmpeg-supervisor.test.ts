// ffmpeg dying and coming back, backoff, and never leaving a child behind.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { switchMap } from 'rxjs';
import { FfmpegSupervisor, liveFfmpegPids, type FfmpegExit } from '../src/sources/ffmpeg/ffmpeg-supervisor.js';
import { LegacyClient } from './support/clients.js';
import { makeFakeFfmpeg } from './support/fake-ffmpeg.js';
import { testPatternJpegs } from './support/jpegs.js';
import { memoryLogger } from './support/logger.js';
import { startTestServer, type TestServer } from './support/server.js';
import { waitUntil } from './support/wait.js';

let jpeg: Buffer;
const servers: TestServer[] = [];
const supervisors: FfmpegSupervisor[] = [];

beforeAll(async () => {
  [jpeg] = (await testPatternJpegs(160, 120, 1)) as [Buffer];
});

afterEach(async () => {
  await Promise.all([...servers.splice(0).map((s) => s.close()), ...supervisors.splice(0).map((s) => s.stop())]);
});

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

describe('the ffmpeg child', () => {
  it('is restarted when killed; frames resume on the same connection and the restart is counted', async () => {
    const server = await startTestServer({ fps: 15 }, { supervisor: { initialBackoffMs: 200 } });
    servers.push(server);
    const c = await LegacyClient.connect(server.tcpPort);
    c.write('3');
    await c.waitForFrames(5);
    const [pid] = liveFfmpegPids();
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    await waitUntil(() => server.hub.info().restarts === 1, 10_000, 'the restart');
    const n = c.frames.length;
    await c.waitForFrames(n + 10);
    expect(c.ended).toBe(false);
    expect(alive(pid!)).toBe(false);
    expect(liveFfmpegPids()).not.toContain(pid);
    expect(server.hub.info()).toMatchObject({ state: 'running', restarts: 1 });
    expect(await server.metrics.text()).toMatch(/edgecam_source_restarts_total 1/);
    const warn = server.log.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('ffmpeg killed by SIGKILL'));
    expect(warn).toMatchObject({ level: 40, restartInMs: 200 });
    c.close();
  });

  it('backs off, doubling the delay, while it keeps dying, and says why', async () => {
    const ffmpeg = makeFakeFfmpeg({ jpeg, failImmediately: true });
    const exits: FfmpegExit[] = [];
    const sup = new FfmpegSupervisor({
      ffmpeg,
      args: () => ['-f', 'v4l2', '-i', '/dev/video9', 'pipe:1'],
      logger: memoryLogger().logger,
      onExit: (e) => exits.push(e),
      initialBackoffMs: 50,
      maxBackoffMs: 200,
    });
    supervisors.push(sup);
    sup.start();
    await waitUntil(() => exits.length >= 4, 10_000, 'four failures');
    expect(exits.slice(0, 4).map((e) => e.restartInMs)).toEqual([50, 100, 200, 200]);
    expect(exits[0]!.code).toBe(1);
    expect(exits[0]!.reason).toContain('No such file or directory');
    expect(sup.restarts).toBeGreaterThanOrEqual(3);
  });

  it('is killed with SIGKILL when it ignores SIGTERM for the grace period', async () => {
    const ffmpeg = makeFakeFfmpeg({ jpeg, ignoreTerm: true, fps: 5 });
    let chunks = 0;
    const log = memoryLogger();
    const sup = new FfmpegSupervisor({
      ffmpeg,
      args: () => ['pipe:1'],
      logger: log.logger,
      killGraceMs: 300,
    });
    sup.runs$.pipe(switchMap((run) => run.output$)).subscribe(() => chunks++);
    sup.start();
    await waitUntil(() => chunks > 0, 10_000, 'output');
    const pid = sup.pid!;
    const kill = vi.spyOn(process, 'kill');
    const sent = () => kill.mock.calls.filter(([target]) => Math.abs(target) === pid).map(([, signal]) => signal);
    // The grace period runs in virtual time; the child's answers are real events waited for.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const stopped = sup.stop();
      expect(sent()).toEqual(['SIGTERM']);
      await waitUntil(() => log.lines.some((l) => l.stderr === 'fake ffmpeg ignores SIGTERM'), 10_000, 'the child to ignore SIGTERM');
      vi.advanceTimersByTime(299);
      expect(sent()).toEqual(['SIGTERM']);
      expect(alive(pid)).toBe(true);
      vi.advanceTimersByTime(1);
      expect(sent()).toEqual(['SIGTERM', 'SIGKILL']);
      await stopped;
    } finally {
      vi.useRealTimers();
      kill.mockRestore();
    }
    expect(alive(pid)).toBe(false);
    expect(log.lines.find((l) => l.msg === 'ffmpeg stopped')).toMatchObject({ signal: 'SIGKILL' });
  });

  it('is stopped when the capture goes idle and started again on demand', async () => {
    const server = await startTestServer({ fps: 15, idleStop: 0.2 });
    servers.push(server);
    const c = await LegacyClient.connect(server.tcpPort);
    c.write('0');
    await c.waitForFrames(1);
    await waitUntil(() => server.hub.info().state === 'idle', 5000, 'the idle stop');
    await waitUntil(() => liveFfmpegPids().length === 0, 5000, 'ffmpeg to exit');
    c.write('0');
    await c.waitForFrames(2);
    expect(server.log.lines.filter((l) => l.msg === 'ffmpeg started')).toHaveLength(2);
    c.close();
  });
});
