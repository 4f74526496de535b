// `edgecam events`: follows a server's camera events (v2 EVENT messages) on the terminal, one
// line each, until Ctrl-C. A lost connection is retried with backoff, like `view` does; a
// refusal (wrong token, unknown camera) ends it.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ProtocolError, encodePing, isFatalErrorCode, type EventBody, type ServerMessage, type Welcome } from '@edgecam/protocol';
import { decodeServerMessages } from '@edgecam/protocol/rx';
import { backoffDelay } from '@edgecam/runtime';
import { CliError, ExitCode, errorText } from './errors.js';
import { aborted, onInterrupt } from './interrupt.js';
import type { GlobalOptions } from './options.js';
import { jsonText, serverName, visibleText } from './peer-text.js';
import { RECONNECT_FIRST_MS, RECONNECT_MAX_MS } from './reconnect.js';
import { CLIENT_NAME, encodeSafeHello } from './safe-hello.js';
import { formatAddress, openSocket } from './socket-open.js';
import { socketBytes } from './connection.js';
import { printError, printLine } from './terminal.js';

export interface EventsFlags {
  camera?: string;
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
          EventSession.open(g, flags, address),
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
        const camera = flags.camera ?? w.camera;
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
  /** Resolves when the connection ends: undefined for a plain close, or why. */
  readonly done: Promise<CliError | undefined>;
  private keepalive: NodeJS.Timeout | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly welcome: Welcome,
    done: Promise<CliError | undefined>,
  ) {
    this.done = done;
    this.keepalive = setInterval(() => socket.write(encodePing(Buffer.alloc(8))), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** Connects, sends HELLO with `events: true` and waits for the WELCOME. */
  static async open(g: GlobalOptions, flags: EventsFlags, address: string): Promise<EventSession> {
    const socket = await openSocket(g.host, g.port, g.timeoutMs, g.tls);
    const hello = {
      client: CLIENT_NAME,
      events: true,
      ...(g.token !== undefined ? { token: g.token } : {}),
      ...(flags.camera !== undefined ? { camera: flags.camera } : {}),
    };
    socket.write(encodeSafeHello(hello));
    return new Promise((resolve, reject) => {
      let session: EventSession | undefined;
      let settle: (why: CliError | undefined) => void = () => {};
      const done = new Promise<CliError | undefined>((r) => (settle = r));
      const fail = (err: CliError) => {
        socket.destroy();
        if (session) settle(err);
        else reject(err);
      };
      const timer = setTimeout(() => fail(new CliError(ExitCode.CONNECTION, `${address} sent no WELCOME within ${g.timeoutMs / 1000} s; it may be a legacy server, which has no events`)), g.timeoutMs);
      socketBytes(socket)
        .pipe(decodeServerMessages())
        .subscribe({
          next: (m: ServerMessage) => {
            switch (m.type) {
              case 'welcome':
                clearTimeout(timer);
                session ??= new EventSession(socket, m.welcome, done);
                resolve(session);
                return;
              case 'event':
                printLine(formatEvent(m.event, flags.json === true));
                return;
              case 'error':
                if (isFatalErrorCode(m.error.code)) {
                  clearTimeout(timer);
                  fail(new Refused(ExitCode.CONNECTION, `refused by ${address}: ${visibleText(m.error.code)}: ${visibleText(m.error.message)}`));
                } else {
                  printError(`edgecam events: ${address}: ${visibleText(m.error.message)}`);
                }
                return;
              default:
                return;
            }
          },
          error: (err: unknown) => {
            clearTimeout(timer);
            const code = err instanceof ProtocolError ? ExitCode.PROTOCOL : ExitCode.CONNECTION;
            // Before a WELCOME, garbage means a server that is not v2, so it has no events.
            const hint = session === undefined && err instanceof ProtocolError ? ' (not a v2 server; legacy servers have no events)' : '';
            fail(err instanceof CliError ? err : new CliError(code, `${address}: ${visibleText(errorText(err))}${hint}`));
          },
          complete: () => {
            clearTimeout(timer);
            if (session) settle(undefined);
            else reject(new CliError(ExitCode.CONNECTION, `${address} closed the connection before its WELCOME; it may be a legacy server, which has no events`));
          },
        });
    });
  }

  close(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}
