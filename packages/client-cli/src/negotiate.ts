import type { Socket } from 'node:net';
import { Subject, concat, from, tap, type Observable } from 'rxjs';
import { pino, type Logger } from 'pino';
import { DEFAULT_MAX_FRAME_BYTES, MessageType, type CapturedFrame, type ServerMessage, type Welcome } from '@edgecam/protocol';
import {
  Connection,
  DEFAULT_LEGACY_COMMAND_GAP_MS,
  DEFAULT_NEGOTIATE_MS,
  socketBytes,
  type ConnectOptions,
  type ServerConnection,
} from './connection.js';
import { CliError, ExitCode } from './errors.js';
import { readLegacyFrames } from './legacy-reader.js';
import { PEEK_BYTES, looksLikeText, quoteText } from './peer-text.js';
import { CLIENT_NAME, encodeSafeHello } from './safe-hello.js';
import { serverError } from './server-error.js';
import { formatAddress, formatSeconds, openSocket } from './socket-open.js';
import { isCut, readV2Messages, v2Frames } from './v2-reader.js';
import { failIfQuietTls, httpPortError, looksLikeHttp, looksLikeTls, needsTlsError, speaksTls } from './wrong-port.js';

const silentLogger = pino({ level: 'silent' });

/**
 * Connects and settles the protocol. `auto` sends the v2 opening; anything but a WELCOME within
 * `negotiateMs` (text such as `Unknown command`, a close, silence) makes it reconnect and speak
 * legacy on a fresh socket, so the seed server never sees a command after our opening bytes.
 */
export async function connect(opts: ConnectOptions): Promise<ServerConnection> {
  const log = opts.logger ?? silentLogger;
  const address = formatAddress(opts.host, opts.port);
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const gapMs = opts.legacyCommandGapMs ?? DEFAULT_LEGACY_COMMAND_GAP_MS;

  /** `tlsWatchMs`: after a silent hang-up on the v2 opening, how long a quiet legacy socket may stay quiet before we ask whether the port speaks TLS. */
  const legacy = async (tlsWatchMs?: number) => {
    if (opts.token !== undefined) log.warn('the legacy protocol has no authentication: the token is not sent');
    const socket = await openSocket(opts.host, opts.port, opts.timeoutMs, opts.tls);
    log.debug({ address, tls: opts.tls !== undefined }, 'connected (legacy)');
    let conn: Connection | undefined = undefined;
    let bytes = socketBytes(socket);
    if (tlsWatchMs !== undefined) {
      const ms = tlsWatchMs;
      bytes = bytes.pipe(failIfQuietTls(() => speaksTls(opts.host, opts.port, ms), ms, () => conn?.firstCommandAt !== undefined, address));
    }
    const frames = bytes.pipe(
      readLegacyFrames({ address, maxFrameBytes, overTls: opts.tls !== undefined, firstCommandAt: () => conn?.firstCommandAt }),
    );
    conn = new Connection(socket, address, 'legacy', undefined, frames, gapMs, log);
    return conn;
  };

  if (opts.protocol === 'legacy') return legacy();

  const strict = opts.protocol === 'v2';
  // auto: at most half of --timeout goes on waiting for a WELCOME, so a legacy server that
  // answers with silence still has the other half to send its frame.
  const waitMs = strict ? opts.timeoutMs : Math.min(opts.negotiateMs ?? DEFAULT_NEGOTIATE_MS, opts.timeoutMs / 2);
  const socket = await openSocket(opts.host, opts.port, opts.timeoutMs, opts.tls);
  const hello = {
    client: CLIENT_NAME,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    ...(opts.camera !== undefined ? { camera: opts.camera } : {}),
  };
  const result = await negotiateV2(socket, encodeSafeHello(hello), waitMs, strict, maxFrameBytes, address, {
    tokenSent: opts.token !== undefined,
    tls: opts.tls !== undefined,
  });
  if (result.kind === 'v2') {
    if (opts.camera !== undefined && result.welcome.camera === undefined) {
      // A server from before cameras had names ignores HELLO's camera: say so rather than show its one camera as the one asked for.
      socket.destroy();
      throw new CliError(ExitCode.CONNECTION, `the server at ${address} does not name its cameras (it serves one); leave out --camera`);
    }
    log.debug({ address, welcome: result.welcome }, 'connected (v2)');
    return result.connect((frames) => new Connection(socket, address, 'v2', result.welcome, frames, gapMs, log));
  }
  socket.destroy();
  const silentClose = result.reason === CLOSED_SILENTLY && opts.tls === undefined;
  // A TLS server hangs up on our plain opening without a word (a legacy server answers with text).
  // Forced to v2, the sentence already names TLS as one cause, and nothing waits for --timeout.
  if (strict) throw result.strictError;
  if (opts.camera !== undefined) {
    throw new CliError(
      ExitCode.CONNECTION,
      `the server at ${address} speaks only the legacy protocol (${result.reason}), which cannot pick a camera: a legacy server serves one camera per port; leave out --camera`,
    );
  }
  if (silentClose) {
    // It would then leave the legacy attempt waiting for a handshake until --timeout: legacy()
    // asks whether the port speaks TLS if the answer to our first command is silence.
    log.warn({ address }, 'the server closed the connection without a word; trying the legacy protocol (if the server uses TLS, add --tls or --fingerprint)');
    log.info({ address, reason: result.reason }, 'no v2 WELCOME; reconnecting with the legacy protocol');
    return legacy(waitMs / 2);
  }
  log.info({ address, reason: result.reason }, 'no v2 WELCOME; reconnecting with the legacy protocol');
  return legacy();
}

const CLOSED_SILENTLY = 'it closed the connection';

type Negotiated =
  | {
      kind: 'v2';
      welcome: Welcome;
      /** Hands the messages after the WELCOME, as frames, to the connection `make` builds. */
      connect: (make: (frames: Observable<CapturedFrame>) => Connection) => Connection;
    }
  /** `strictError`: what to report when the protocol was forced to v2. */
  | { kind: 'fallback'; reason: string; strictError?: CliError | undefined };

/** The opening's answer is no v2 message: a legacy server, or something else entirely. */
class NotV2 extends Error {}

/**
 * Sends the v2 opening and waits for the WELCOME, reading the socket through the same message
 * stream the session then goes on with. In auto mode (`strict` false) everything that shows the
 * server is not a v2 server resolves to a fallback; an ERROR from a v2 server (bad token, too
 * many clients) is final either way.
 */
function negotiateV2(
  socket: Socket,
  opening: Buffer,
  waitMs: number,
  strict: boolean,
  maxFrameBytes: number,
  address: string,
  how: { tokenSent: boolean; tls: boolean },
): Promise<Negotiated> {
  const hint = 'it may be a legacy server (try --protocol auto or --protocol legacy)';
  // A TLS server closes a plain connection (or says nothing) without a word of its own.
  const quietHint = how.tls ? hint : `${hint}, or one that needs TLS (--tls)`;
  return new Promise((resolve, reject) => {
    // After the WELCOME, messages go on through here to the connection; those in the WELCOME's
    // own chunk wait in `early` until it subscribes (an ERROR among them must still end it).
    const after = new Subject<ServerMessage>();
    let early: ServerMessage[] | undefined = [];
    let welcome: Welcome | undefined;
    let first = true;
    let settled = false;

    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const giveUp = (err: CliError) => {
      sub.unsubscribe();
      socket.destroy();
      settle(() => reject(err));
    };
    const notV2 = (reason: string, err: CliError) => {
      if (strict) {
        giveUp(err);
        return;
      }
      sub.unsubscribe();
      socket.pause();
      settle(() => resolve({ kind: 'fallback', reason }));
    };
    const closedSilently = () => {
      sub.unsubscribe();
      const strictError = strict
        ? new CliError(ExitCode.CONNECTION, `the server closed the connection before its v2 WELCOME; ${quietHint}`)
        : undefined;
      settle(() => resolve({ kind: 'fallback', reason: CLOSED_SILENTLY, ...(strictError !== undefined ? { strictError } : {}) }));
    };

    const sub = socketBytes(socket)
      .pipe(
        tap((chunk) => {
          if (!first) return;
          first = false;
          const type = chunk[0];
          if (type === MessageType.WELCOME || type === MessageType.ERROR) return;
          const head = chunk.subarray(0, PEEK_BYTES);
          // No legacy server answers like these: say which port this is instead of falling back.
          if (looksLikeHttp(head)) throw httpPortError(address, head);
          if (looksLikeTls(head) && !how.tls) throw needsTlsError(address);
          throw new NotV2(
            looksLikeText(head)
              ? `text ${quoteText(head)}`
              : `bytes that are not a v2 message (first byte 0x${(type ?? 0).toString(16).padStart(2, '0')})`,
          );
        }),
        readV2Messages({ maxFrameBytes }),
      )
      .subscribe({
        next: (m) => {
          if (welcome !== undefined) {
            if (early !== undefined) early.push(m);
            else after.next(m);
          } else if (m.type === 'welcome') {
            const w = (welcome = m.welcome);
            settle(() =>
              resolve({
                kind: 'v2',
                welcome: w,
                connect: (make) => {
                  const held = early ?? [];
                  early = undefined;
                  // A notice among the held messages arrives while make() runs, before conn exists.
                  let conn: Connection | undefined;
                  let pending: string | undefined;
                  const note = (why: string) => (conn ? conn.noteSourceDown(why) : (pending = why));
                  conn = make(concat(from(held), after).pipe(v2Frames(note)));
                  if (pending !== undefined) conn.noteSourceDown(pending);
                  return conn;
                },
              }),
            );
          } else if (m.type === 'error') giveUp(serverError(m.error, true, how.tokenSent));
          else giveUp(new CliError(ExitCode.PROTOCOL, `the server sent a ${m.type} message before its WELCOME`));
        },
        error: (err: unknown) => {
          if (welcome !== undefined) after.error(err);
          else if (err instanceof NotV2) {
            notV2(
              `it answered ${err.message}`,
              new CliError(ExitCode.PROTOCOL, `the server answered ${err.message} instead of a v2 WELCOME; ${hint}`),
            );
          } else if (isCut(err)) closedSilently();
          else if (err instanceof CliError) giveUp(err);
          else {
            const e = err as NodeJS.ErrnoException;
            notV2(
              `the connection failed (${e.code ?? e.message})`,
              new CliError(ExitCode.CONNECTION, `the connection failed before the v2 WELCOME (${e.code ?? e.message}); ${quietHint}`),
            );
          }
        },
        complete: () => {
          if (welcome !== undefined) after.complete();
          else closedSilently();
        },
      });
    const timer = setTimeout(
      () =>
        notV2(
          `it said nothing for ${formatSeconds(waitMs)}`,
          new CliError(ExitCode.CONNECTION, `no v2 WELCOME from the server within ${formatSeconds(waitMs)}; ${quietHint}`),
        ),
      waitMs,
    );
    socket.write(opening);
  });
}
