// The v2 opening and the server's answer to it, for every connection that speaks v2: connect()
// for frames and `edgecam events`. It reports what happened; the caller words it, since auto
// falls back to legacy where `events` has nothing to fall back to.
import type { Socket } from 'node:net';
import { Subject, concat, defer, from, tap, type Observable, type Subscription } from 'rxjs';
import { MessageType, type ErrorBody, type ServerMessage, type Welcome } from '@edgecam/protocol';
import { socketBytes, type ConnectOptions } from './connection.js';
import { CliError, ExitCode, errorText } from './errors.js';
import { PEEK_BYTES, looksLikeText, quoteText, visibleText } from './peer-text.js';
import { CLIENT_NAME, encodeSafeHello } from './safe-hello.js';
import { formatAddress, formatSeconds, openSocket } from './socket-open.js';
import { oneBufferReads } from './socket-reads.js';
import { isCut, readV2Messages } from './v2-reader.js';
import { needsTlsError, speaksTls, wrongPortError } from './wrong-port.js';

/** Where to connect (`timeoutMs` bounds opening the socket), what to say in HELLO, and how long to wait for the WELCOME. */
export interface HandshakeOptions extends Pick<ConnectOptions, 'host' | 'port' | 'tls' | 'timeoutMs' | 'token' | 'camera'> {
  /** Limit for the WELCOME, from the opening on. */
  waitMs: number;
  /** Ask for the server's EVENT messages. */
  events?: boolean;
  maxFrameBytes: number;
}

/** The server let us in. */
export interface V2Session {
  kind: 'welcome';
  socket: Socket;
  welcome: Welcome;
  /**
   * The messages after the WELCOME, those that came in its chunk first, for one subscriber.
   * Errors as readV2Messages does; completes at the server's close.
   */
  messages$: Observable<ServerMessage>;
}

/** Why no WELCOME came. The socket is closed. */
export type HandshakeFailure =
  /** An ERROR in its place: a wrong token, an unknown camera, too many clients. */
  | { kind: 'refused'; error: ErrorBody }
  /** An answer that is no v2 message, `head` its first bytes: a legacy server, or something else. */
  | { kind: 'not-v2'; head: Buffer }
  /** Nothing within waitMs. */
  | { kind: 'silent' }
  /** Closed, or cut inside the first message. */
  | { kind: 'closed' }
  /** The socket failed. */
  | { kind: 'failed'; error: NodeJS.ErrnoException }
  /** An answer that settles it whatever the caller does: a wrong port, a broken v2 message. */
  | { kind: 'final'; error: CliError };

/** A first answer that is no v2 message, in words: `text "Unknown command"` or its first byte. */
export function describeAnswer(head: Buffer): string {
  return looksLikeText(head)
    ? `text ${quoteText(head)}`
    : `bytes that are not a v2 message (first byte 0x${(head[0] ?? 0).toString(16).padStart(2, '0')})`;
}

/**
 * No WELCOME, as a sentence for a command that needs v2 and has no legacy to fall back to
 * (`events`, and `recordings` and `pull` looking for the HTTP side); `what` is what a legacy
 * server lacks ("events"). A hang-up or silence on a plain connection is checked for TLS first,
 * so a TLS port reached without --tls is named as `snapshot` names it.
 */
export async function noWelcomeError(
  answer: Exclude<HandshakeFailure, { kind: 'refused' }>,
  o: Pick<HandshakeOptions, 'host' | 'port' | 'tls' | 'waitMs'>,
  what: string,
): Promise<CliError> {
  const address = formatAddress(o.host, o.port);
  const legacy = `it may be a legacy server, which has no ${what}`;
  if ((answer.kind === 'closed' || answer.kind === 'silent') && o.tls === undefined && (await speaksTls(o.host, o.port, Math.min(2000, o.waitMs)))) {
    return needsTlsError(address);
  }
  switch (answer.kind) {
    case 'final':
      return answer.error;
    case 'not-v2':
      return new CliError(ExitCode.PROTOCOL, `${address}: it answered ${describeAnswer(answer.head)} (not a v2 server; legacy servers have no ${what})`);
    case 'closed':
      return new CliError(ExitCode.CONNECTION, `${address} closed the connection before its WELCOME; ${legacy}`);
    case 'failed':
      return new CliError(ExitCode.CONNECTION, `${address}: ${visibleText(errorText(answer.error))}`);
    case 'silent':
      return new CliError(ExitCode.CONNECTION, `${address} sent no WELCOME within ${formatSeconds(o.waitMs)}; ${legacy}`);
  }
}

/** Marks a first chunk that starts with no WELCOME or ERROR. */
class NotV2 extends Error {}

/**
 * Connects, sends the opening (magic + HELLO, one write) and waits for the WELCOME, reading the
 * socket through the one message stream the session then goes on with. Failing to connect
 * throws, as openSocket does; every other outcome is returned.
 */
export async function v2Handshake(o: HandshakeOptions): Promise<V2Session | HandshakeFailure> {
  const socket = await openSocket(o.host, o.port, o.timeoutMs, o.tls, oneBufferReads());
  const hello = {
    client: CLIENT_NAME,
    ...(o.events === true ? { events: true } : {}),
    ...(o.token !== undefined ? { token: o.token } : {}),
    ...(o.camera !== undefined ? { camera: o.camera } : {}),
  };
  return new Promise((resolve) => {
    // After the WELCOME, messages go on through `after`; until the caller subscribes they wait
    // in `held` (an ERROR among them must still reach it).
    const after = new Subject<ServerMessage>();
    let held: ServerMessage[] | undefined = [];
    let welcomed = false;
    let head: Buffer | undefined;
    let sub: Subscription | undefined;
    const fail = (why: HandshakeFailure) => {
      clearTimeout(timer);
      sub?.unsubscribe();
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => fail({ kind: 'silent' }), o.waitMs);
    sub = socketBytes(socket)
      .pipe(
        tap((chunk) => {
          if (head !== undefined) return;
          head = chunk.subarray(0, PEEK_BYTES);
          if (chunk[0] === MessageType.WELCOME || chunk[0] === MessageType.ERROR) return;
          throw wrongPortError(formatAddress(o.host, o.port), head, o.tls !== undefined) ?? new NotV2();
        }),
        readV2Messages({ maxFrameBytes: o.maxFrameBytes }),
      )
      .subscribe({
        next: (m) => {
          if (welcomed) {
            if (held !== undefined) held.push(m);
            else after.next(m);
          } else if (m.type === 'welcome') {
            welcomed = true;
            clearTimeout(timer);
            const messages$ = defer(() => {
              const early = held ?? [];
              held = undefined;
              return concat(from(early), after);
            });
            resolve({ kind: 'welcome', socket, welcome: m.welcome, messages$ });
          } else if (m.type === 'error') fail({ kind: 'refused', error: m.error });
          else fail({ kind: 'final', error: new CliError(ExitCode.PROTOCOL, `the server sent a ${m.type} message before its WELCOME`) });
        },
        error: (err: unknown) => {
          if (welcomed) after.error(err);
          else if (err instanceof NotV2) fail({ kind: 'not-v2', head: head! });
          else if (isCut(err)) fail({ kind: 'closed' });
          else if (err instanceof CliError) fail({ kind: 'final', error: err });
          else fail({ kind: 'failed', error: err as NodeJS.ErrnoException });
        },
        complete: () => (welcomed ? after.complete() : fail({ kind: 'closed' })),
      });
    socket.write(encodeSafeHello(hello));
  });
}
