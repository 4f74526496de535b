import { pino } from 'pino';
import { DEFAULT_MAX_FRAME_BYTES } from '@edgecam/protocol';
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
import { serverError } from './server-error.js';
import { formatAddress, formatSeconds, openSocket } from './socket-open.js';
import { oneBufferReads } from './socket-reads.js';
import { describeAnswer, v2Handshake, type HandshakeFailure } from './v2-handshake.js';
import { v2Frames } from './v2-reader.js';
import { failIfQuietTls, needsTlsError, speaksTls } from './wrong-port.js';

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
    const socket = await openSocket(opts.host, opts.port, opts.timeoutMs, opts.tls, oneBufferReads());
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
  const answer = await v2Handshake({ ...opts, waitMs, maxFrameBytes });
  if (answer.kind === 'welcome') {
    const { socket, welcome } = answer;
    if (opts.camera !== undefined && welcome.camera === undefined) {
      // A server from before cameras had names ignores HELLO's camera: say so rather than show its one camera as the one asked for.
      socket.destroy();
      throw new CliError(ExitCode.CONNECTION, `the server at ${address} does not name its cameras (it serves one); leave out --camera`);
    }
    log.debug({ address, welcome }, 'connected (v2)');
    // A notice among the messages that came with the WELCOME arrives while the constructor runs, before conn exists.
    let conn: Connection | undefined;
    let pending: string | undefined;
    const note = (why: string) => (conn ? conn.noteSourceDown(why) : (pending = why));
    conn = new Connection(socket, address, 'v2', welcome, answer.messages$.pipe(v2Frames(note)), gapMs, log);
    if (pending !== undefined) conn.noteSourceDown(pending);
    return conn;
  }
  const fallback = fallbackReason(answer, { waitMs, strict, tokenSent: opts.token !== undefined, tls: opts.tls !== undefined });
  if (opts.camera !== undefined) {
    throw new CliError(
      ExitCode.CONNECTION,
      `the server at ${address} speaks only the legacy protocol (${fallback}), which cannot pick a camera: a legacy server serves one camera per port; leave out --camera`,
    );
  }
  if (answer.kind === 'closed' && opts.tls === undefined) {
    // A TLS server hangs up on our plain opening without a word (a legacy server answers with
    // text). It would then leave the legacy attempt waiting for a handshake until --timeout:
    // legacy() asks whether the port speaks TLS if the answer to our first command is silence.
    if (opts.checkTlsAtOnce === true && (await speaksTls(opts.host, opts.port, waitMs))) throw needsTlsError(address);
    log.warn({ address }, 'the server closed the connection without a word; trying the legacy protocol (if the server uses TLS, add --tls or --fingerprint)');
    log.info({ address, reason: fallback }, 'no v2 WELCOME; reconnecting with the legacy protocol');
    return legacy(waitMs / 2);
  }
  log.info({ address, reason: fallback }, 'no v2 WELCOME; reconnecting with the legacy protocol');
  return legacy();
}

/**
 * What a handshake without a WELCOME means for connect(): the reason to fall back to legacy, in
 * auto; a CliError, when the protocol was forced to v2 or the answer settles it (an ERROR from a
 * v2 server, such as a bad token or too many clients, is final either way).
 */
function fallbackReason(
  answer: HandshakeFailure,
  how: { waitMs: number; strict: boolean; tokenSent: boolean; tls: boolean },
): string {
  const hint = 'it may be a legacy server (try --protocol auto or --protocol legacy)';
  // A TLS server closes a plain connection (or says nothing) without a word of its own.
  const quietHint = how.tls ? hint : `${hint}, or one that needs TLS (--tls)`;
  const fallBack = (reason: string, strictError: CliError): string => {
    if (how.strict) throw strictError;
    return reason;
  };
  switch (answer.kind) {
    case 'refused':
      throw serverError(answer.error, true, how.tokenSent);
    case 'final':
      throw answer.error;
    case 'not-v2': {
      const said = describeAnswer(answer.head);
      return fallBack(`it answered ${said}`, new CliError(ExitCode.PROTOCOL, `the server answered ${said} instead of a v2 WELCOME; ${hint}`));
    }
    case 'closed':
      return fallBack('it closed the connection', new CliError(ExitCode.CONNECTION, `the server closed the connection before its v2 WELCOME; ${quietHint}`));
    case 'failed': {
      const why = answer.error.code ?? answer.error.message;
      return fallBack(
        `the connection failed (${why})`,
        new CliError(ExitCode.CONNECTION, `the connection failed before the v2 WELCOME (${why}); ${quietHint}`),
      );
    }
    case 'silent':
      return fallBack(
        `it said nothing for ${formatSeconds(how.waitMs)}`,
        new CliError(ExitCode.CONNECTION, `no v2 WELCOME from the server within ${formatSeconds(how.waitMs)}; ${quietHint}`),
      );
  }
}
