import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import { frameTimeout, nextFrame } from './frame-timeout.js';
import { connect } from './negotiate.js';
import { CliError, ExitCode, asCliError } from './errors.js';
import { onInterrupt } from './interrupt.js';
import { serverName } from './peer-text.js';
import type { GlobalOptions } from './global-options.js';
import { RecordStats, formatBytes } from './record-stats.js';
import { defaultRecordingName } from './record-command.js';
import { Recording, playSeconds } from './recording.js';
import { checkJpeg, defaultSnapshotName, saveJpeg, takeSnapshot } from './snapshot.js';
import { printError, printLine } from './terminal.js';

const HELP = `commands:
  0          save a snapshot (snapshot_<unix ms>.jpg)
  3          start recording (video_stream_<unix ms>.avi)
  q          stop recording and save the file
  2          quit (stops a recording first; the server keeps running)
  wait SECS  pause, for scripts piped into the shell
  help       this list`;

interface ActiveRecording {
  path: string;
  stats: RecordStats;
  recording: Recording;
  sub: Subscription;
  /** Set when the recording ended on its own (lost connection, disk error). */
  ended: Promise<CliError>;
}

/**
 * `edgecam shell`: the seed client's interactive loop, over one connection. Lines come from stdin
 * (a terminal or a pipe); each is handled to the end before the next is read. End of input is a
 * quit. The connection is closed with `q` and a FIN, never with `2`, which would stop a seed
 * server for everyone.
 */
export async function shellCommand(g: GlobalOptions, log: Logger): Promise<number> {
  const interactive = process.stdin.isTTY === true;
  const conn = await connect({ ...g, checkTlsAtOnce: true, logger: log });
  const who = conn.welcome !== undefined ? `${serverName(conn.welcome)}, ` : '';
  printLine(`connected to ${conn.address} (${who}${conn.protocol} protocol); type help for commands`);

  const rl = createInterface({ input: process.stdin, terminal: interactive });
  const interrupt = onInterrupt();
  interrupt.signal.addEventListener('abort', () => rl.close(), { once: true });
  // On a terminal readline takes Ctrl-C itself (and would only pause): make it end the shell.
  rl.on('SIGINT', () => rl.close());
  let recording: ActiveRecording | undefined;
  let fatal: CliError | undefined;
  // The connection failing ends the shell, even while it waits for input.
  const connectionLost = new Promise<CliError>((resolve) =>
    conn.frames$.subscribe({ error: (err: unknown) => resolve(asCliError(err)) }),
  );
  void connectionLost.then((err) => {
    fatal ??= err;
    rl.close();
  });

  const stopRecording = async (): Promise<void> => {
    const r = recording;
    if (r === undefined) return;
    recording = undefined;
    r.sub.unsubscribe();
    await conn.command('q').catch(() => undefined);
    const outcome = await r.recording.close();
    const s = r.stats.snapshot(true);
    if (outcome === undefined || outcome.frames === 0) {
      printLine(`no frames were recorded; nothing saved`);
    } else {
      printLine(
        `saved ${outcome.files.join(', ')}: ${outcome.frames} frames, ${playSeconds(outcome, s.elapsedMs).toFixed(2)} s, ${outcome.fps.toFixed(2)} fps, ${s.dropped} dropped, ${formatBytes(outcome.bytes)}`,
      );
    }
    if (r.recording.failure !== undefined) printError(`edgecam: ${r.recording.failure.message}`);
  };

  const startRecording = async (): Promise<void> => {
    if (recording !== undefined) {
      printLine(`already recording to ${recording.path} (q to stop)`);
      return;
    }
    const path = defaultRecordingName();
    const stats = new RecordStats();
    let endRecording: (e: CliError) => void = () => undefined;
    const ended = new Promise<CliError>((r) => (endRecording = r));
    const rec = new Recording({ path, format: 'avi', segment: undefined, log }, stats, endRecording, (full) =>
      full ? conn.pause() : conn.resume(),
    );
    const first = nextFrame(conn, g.timeoutMs);
    first.catch(() => undefined);
    const sub = conn.frames$.pipe(frameTimeout(g.timeoutMs, g.timeoutMs, conn)).subscribe({
      next: (f) => {
        stats.frame(f, conn.protocol === 'v2');
        rec.push(f);
      },
      error: (err: unknown) => endRecording(asCliError(err)),
    });
    recording = { path, stats, recording: rec, sub, ended };
    await conn.command('3');
    try {
      await first;
    } catch (err) {
      await stopRecording();
      throw err;
    }
    printLine(`recording to ${path} (q to stop)`);
    void ended.then(async (err) => {
      if (recording?.ended !== ended) return;
      printError(`edgecam: the recording stopped: ${err.message}`);
      await stopRecording();
    });
  };

  const snapshot = async (): Promise<void> => {
    // While recording, the stream is already flowing: take its next frame instead of asking.
    const frame = recording !== undefined ? await nextFrame(conn, g.timeoutMs) : await takeSnapshot(conn, g.timeoutMs);
    const info = checkJpeg(frame.jpeg);
    const path = defaultSnapshotName();
    await saveJpeg(path, frame.jpeg);
    printLine(`saved ${path} (${info.width}x${info.height}, ${formatBytes(frame.jpeg.length)})`);
  };

  const prompt = () => {
    if (interactive) process.stdout.write('edgecam> ');
  };

  prompt();
  try {
    for await (const raw of rl) {
      const [word = '', arg] = raw.trim().split(/\s+/);
      try {
        if (word === '') {
          // nothing
        } else if (word === '0') {
          await snapshot();
        } else if (word === '3') {
          await startRecording();
        } else if (word === 'q') {
          if (recording === undefined) printLine('not recording');
          else await stopRecording();
        } else if (word === '2' || word === 'quit' || word === 'exit') {
          break;
        } else if (word === '1') {
          printLine('nothing to acknowledge: snapshots are acknowledged as they arrive');
        } else if (word === 'help' || word === '?') {
          printLine(HELP);
        } else if (word === 'wait') {
          const seconds = Number(arg);
          if (!Number.isFinite(seconds) || seconds < 0) printLine('usage: wait SECONDS');
          else await new Promise((r) => setTimeout(r, seconds * 1000));
        } else {
          printLine(`unknown command ${JSON.stringify(word)}; type help`);
        }
      } catch (err) {
        // A dead connection ends the shell; anything else (a slow frame, a full disk) is reported.
        if (conn.failure !== undefined) {
          fatal ??= conn.failure;
          break;
        }
        printError(`edgecam: ${asCliError(err).message}`);
      }
      if (fatal !== undefined) break;
      prompt();
    }
  } finally {
    interrupt.dispose();
    rl.close();
    await stopRecording();
    await conn.close();
  }
  if (fatal !== undefined) {
    printError(`edgecam: ${fatal.message}`);
    return fatal.exitCode;
  }
  return ExitCode.OK;
}


