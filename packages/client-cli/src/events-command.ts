// `edgecam events`: follows a server's camera events (v2 EVENT messages) on the terminal, one
// line each, until Ctrl-C. A lost connection is retried with backoff, like `view` does; a
// refusal (wrong token, unknown camera) ends it. v2 sends a connection the events of its one
// camera, so `--all` follows every camera the WELCOME lists over a connection each.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodePing,
  isFatalErrorCode,
  type ErrorBody,
  type EventBody,
  type ServerMessage,
  type Welcome,
} from '@edgecam/protocol';
import { backoffDelay } from '@edgecam/runtime';
import { CliError, ExitCode, errorText, usageError } from './errors.js';
import { aborted, onInterrupt } from './interrupt.js';
import type { GlobalOptions } from './global-options.js';
import { jsonText, serverName, visibleText } from './peer-text.js';
import { RECONNECT_FIRST_MS, RECONNECT_MAX_MS } from './reconnect.js';
import { parseServerAddress } from './server-address.js';
import { formatAddress } from './socket-open.js';
import { printError, printLine } from './terminal.js';
import { noWelcomeError, v2Handshake } from './v2-handshake.js';

export interface EventsFlags {
  json?: boolean;
  /** Every camera of the server, not only --camera's or the default. */
  all?: boolean;
}

/** The server said no (a wrong token, an unknown camera): trying again would not help. */
class Refused extends CliError {}

// Servers close v2 clients that send nothing for their idle timeout (600 s by default).
const KEEPALIVE_MS = 60_000;

/** `HOST`, `HOST:PORT` or `[V6]:PORT`; undefined when it is none of those (server-address.ts reads every command's address). */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number } | undefined {
  const at = parseServerAddress(text, { host: '', port: defaultPort });
  return at !== undefined && at.host !== '' ? at : undefined;
}

/** One event as a terminal line; peer text made visible. */
export function formatEvent(e: EventBody, json: boolean): string {
  if (json) return jsonText(e);
  const at = new Date(e.phase === 'end' && e.endedAt !== undefined ? e.endedAt : Date.now()).toISOString();
  const length = e.endedAt !== undefined ? ` after ${((e.endedAt - e.startedAt) / 1000).toFixed(1)} s` : '';
  return `${at} ${visibleText(e.camera)} ${visibleText(e.type)} ${e.phase}${length} score ${e.score.toFixed(2)} (${visibleText(e.id)})`;
}

/** Follows the events until interrupted; returns the exit code. */
export async function eventsCommand(g: GlobalOptions, flags: EventsFlags, log: Logger): Promise<number> {
  if (flags.all === true && g.camera !== undefined) throw usageError('--all follows every camera: leave out --camera (or --all)');
  const address = formatAddress(g.host, g.port);
  const json = flags.json === true;
  const interrupt = onInterrupt();
  try {
    if (flags.all !== true) return await follow(g, json, address, interrupt.signal, log);
    // The default camera's WELCOME lists the others; each gets a connection of its own.
    const first = await firstSession(EventSession.open(g, json, address), interrupt.signal);
    const w = first.welcome;
    const others = w.camera === undefined ? [] : (w.cameras ?? []).filter((name) => name !== w.camera);
    // One refusal ends every follower, as it ends the one of a single camera.
    const group = new AbortController();
    const onInterrupted = () => group.abort();
    interrupt.signal.addEventListener('abort', onInterrupted, { once: true });
    let failure: unknown;
    const run = (p: Promise<number>) =>
      p.catch((err: unknown) => {
        failure ??= err;
        group.abort();
        return ExitCode.OK;
      });
    await Promise.all([
      run(follow({ ...g, camera: w.camera }, json, address, group.signal, log, first)),
      ...others.map((camera) => run(follow({ ...g, camera }, json, address, group.signal, log))),
    ]);
    interrupt.signal.removeEventListener('abort', onInterrupted);
    if (failure !== undefined && !interrupt.signal.aborted) throw failure;
    return ExitCode.OK;
  } finally {
    interrupt.dispose();
  }
}

/** The first connection, or the interrupt before it. */
function firstSession(opening: Promise<EventSession>, signal: AbortSignal): Promise<EventSession> {
  return Promise.race([
    opening,
    aborted(signal).then(() => {
      opening.then((s) => s.close(), () => undefined);
      throw new CliError(ExitCode.INTERRUPTED, 'interrupted before connecting');
    }),
  ]);
}

/**
 * Follows one camera (g.camera, or the server's default) until `signal` aborts; `first` is a
 * session already open for it. The first connection must work, as with `view`; later ones are
 * retried unless refused.
 */
async function follow(g: GlobalOptions, json: boolean, address: string, signal: AbortSignal, log: Logger, first?: EventSession): Promise<number> {
  const stop = aborted(signal);
  let attempt = 0;
  let everConnected = false;
  let pending = first;
  for (;;) {
    let session: EventSession;
    try {
      session = pending ?? (await firstSession(EventSession.open(g, json, address), signal));
      pending = undefined;
    } catch (err) {
      if (signal.aborted && everConnected) return ExitCode.OK;
      if (!everConnected || err instanceof Refused || !(err instanceof CliError) || err.exitCode !== ExitCode.CONNECTION) throw err;
      const ms = backoffDelay(++attempt, RECONNECT_FIRST_MS, RECONNECT_MAX_MS);
      printError(`edgecam events: ${errorText(err)}; retrying in ${(ms / 1000).toFixed(1)} s`);
      const again = await Promise.race([new Promise((r) => setTimeout(r, ms)).then(() => true), stop.then(() => false)]);
      if (!again) return ExitCode.OK;
      continue;
    }
    if (!everConnected || attempt > 0) {
      const w = session.welcome;
      const camera = g.camera ?? w.camera;
      printError(`edgecam events: following ${address} (${serverName(w)}${camera !== undefined ? `, camera ${visibleText(camera)}` : ''}); Ctrl-C to stop`);
    }
    everConnected = true;
    attempt = 0;
    const ended = await Promise.race([session.done, stop.then(() => 'interrupted' as const)]);
    session.close();
    if (ended === 'interrupted') return ExitCode.OK;
    if (ended instanceof Refused || (ended !== undefined && ended.exitCode !== ExitCode.CONNECTION)) throw ended;
    log.info({ address, camera: g.camera, reason: ended === undefined ? 'closed' : ended.message }, 'connection lost; reconnecting');
    printError(`edgecam events: connection lost${ended ? ` (${ended.message})` : ''}; reconnecting`);
    attempt = 1;
    await Promise.race([new Promise((r) => setTimeout(r, RECONNECT_FIRST_MS)), stop]);
    if (signal.aborted) return ExitCode.OK;
  }
}

/** One v2 connection that asked for events. */
class EventSession {
  private keepalive: NodeJS.Timeout | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly welcome: Welcome,
    /** Resolves when the connection ends: undefined for a plain close, or why. */
    readonly done: Promise<CliError | undefined>,
  ) {
    this.keepalive = setInterval(() => socket.write(encodePing(Buffer.alloc(8))), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** Connects, sends HELLO with `events: true`, waits for the WELCOME and prints the events that follow. */
  static async open(g: GlobalOptions, json: boolean, address: string): Promise<EventSession> {
    const answer = await v2Handshake({ ...g, waitMs: g.timeoutMs, events: true, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
    if (answer.kind === 'refused') throw new Refused(ExitCode.CONNECTION, refusedText(address, answer.error));
    if (answer.kind !== 'welcome') throw await noWelcomeError(answer, { ...g, waitMs: g.timeoutMs }, 'events');
    const { socket } = answer;
    const done = new Promise<CliError | undefined>((settle) => {
      const fail = (err: CliError) => {
        socket.destroy();
        settle(err);
      };
      answer.messages$.subscribe({
        next: (m: ServerMessage) => {
          if (m.type === 'event') printLine(formatEvent(m.event, json));
          if (m.type !== 'error') return;
          if (isFatalErrorCode(m.error.code)) fail(new Refused(ExitCode.CONNECTION, refusedText(address, m.error)));
          else printError(`edgecam events: ${address}: ${visibleText(m.error.message)}`);
        },
        error: (err: unknown) =>
          fail(err instanceof CliError ? err : new CliError(ExitCode.CONNECTION, `${address}: ${visibleText(errorText(err))}`)),
        complete: () => settle(undefined),
      });
    });
    return new EventSession(socket, answer.welcome, done);
  }

  close(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}

function refusedText(address: string, e: ErrorBody): string {
  return `refused by ${address}: ${visibleText(e.code)}: ${visibleText(e.message)}`;
}
