// `edgecam events`: follows a server's camera events (v2 EVENT messages) on the terminal, one
// line each, until Ctrl-C. A lost connection is retried with backoff, like `view` does; a
// refusal (wrong token, unknown camera) ends it.
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
import { CliError, ExitCode, errorText } from './errors.js';
import { aborted, onInterrupt } from './interrupt.js';
import type { GlobalOptions } from './global-options.js';
import { jsonText, serverName, visibleText } from './peer-text.js';
import { RECONNECT_FIRST_MS, RECONNECT_MAX_MS } from './reconnect.js';
import { formatAddress } from './socket-open.js';
import { printError, printLine } from './terminal.js';
import { describeAnswer, v2Handshake, type HandshakeFailure } from './v2-handshake.js';

export interface EventsFlags {
  json?: boolean;
}

/** The server said no (a wrong token, an unknown camera): trying again would not help. */
class Refused extends CliError {}

// Servers close v2 clients that send nothing for their idle timeout (600 s by default).
const KEEPALIVE_MS = 60_000;

/** `HOST`, `HOST:PORT` or `[V6]:PORT`; undefined when it is none of those. */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:[\]\s]+)(?::(\d+))?$/.exec(text);
  if (!m) return text.includes(':') && !/\s/.test(text) && !text.includes('[') ? { host: text, port: defaultPort } : undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  return port >= 1 && port <= 65535 ? { host: m[1]!, port } : undefined;
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
  const address = formatAddress(g.host, g.port);
  const interrupt = onInterrupt();
  const stop = aborted(interrupt.signal);
  let attempt = 0;
  let everConnected = false;
  try {
    for (;;) {
      let session: EventSession;
      try {
        session = await Promise.race([
          EventSession.open(g, flags.json === true, address),
          stop.then(() => {
            throw new CliError(ExitCode.INTERRUPTED, 'interrupted before connecting');
          }),
        ]);
      } catch (err) {
        if (interrupt.signal.aborted && everConnected) return ExitCode.OK;
        // The first connection must work, as with `view`; later ones are retried unless refused.
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
      log.info({ address, reason: ended === undefined ? 'closed' : ended.message }, 'connection lost; reconnecting');
      printError(`edgecam events: connection lost${ended ? ` (${ended.message})` : ''}; reconnecting`);
      attempt = 1;
      await Promise.race([new Promise((r) => setTimeout(r, RECONNECT_FIRST_MS)), stop]);
      if (interrupt.signal.aborted) return ExitCode.OK;
    }
  } finally {
    interrupt.dispose();
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
    if (answer.kind !== 'welcome') throw refusal(answer, address, g.timeoutMs);
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

/** No WELCOME, as a sentence for `events`: there is no legacy to fall back to. */
function refusal(answer: HandshakeFailure, address: string, timeoutMs: number): CliError {
  const noEvents = 'it may be a legacy server, which has no events';
  switch (answer.kind) {
    case 'refused':
      return new Refused(ExitCode.CONNECTION, refusedText(address, answer.error));
    case 'final':
      return answer.error;
    case 'not-v2':
      return new CliError(ExitCode.PROTOCOL, `${address}: it answered ${describeAnswer(answer.head)} (not a v2 server; legacy servers have no events)`);
    case 'closed':
      return new CliError(ExitCode.CONNECTION, `${address} closed the connection before its WELCOME; ${noEvents}`);
    case 'failed':
      return new CliError(ExitCode.CONNECTION, `${address}: ${visibleText(errorText(answer.error))}`);
    case 'silent':
      return new CliError(ExitCode.CONNECTION, `${address} sent no WELCOME within ${timeoutMs / 1000} s; ${noEvents}`);
  }
}
