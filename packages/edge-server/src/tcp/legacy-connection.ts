// A legacy client (the seed's protocol): one-byte commands in, bare frames out. It can present no
// token and be told nothing, so every refusal is a close; an unknown byte is skipped silently.
import { encodeFrame, type CommandEvent } from '@edgecam/protocol';
import { decodeCommands } from '@edgecam/protocol/rx';
import { oncePerFrame } from '../camera/per-frame.js';
import type { ClientSession, FrameEncoder } from './client-session.js';
import type { ConnectionLink } from './types.js';

// Encoded once per frame and shared by every legacy client (header buffers included).
const legacyEncoder: FrameEncoder = oncePerFrame((f) => encodeFrame(f.jpeg));

// A legacy peer that has sent this many bytes that are no command is not a camera client (real
// clients send nothing but commands): it is closed rather than parsed forever.
export const MAX_UNKNOWN_BYTES = 1024;

/** A connection detected as legacy: admits it, opens its session, and reads its commands from `rest` on. */
export function startLegacy(link: ConnectionLink, rest: Buffer): void {
  const o = link.options;
  if (o.access?.required && !o.allowLegacy) {
    // The legacy protocol has no way to present a token, and nothing to tell the client why.
    link.log.warn('legacy client refused: a token is required and legacy clients cannot send one (--allow-legacy lets them in)');
    link.destroy();
    return;
  }
  if (!link.admit('legacy')) {
    // A legacy client understands nothing but frames, so it is simply closed.
    link.log.warn({ maxClients: o.maxClients }, 'too many legacy clients; closing');
    link.destroy();
    return;
  }
  const camera = o.cameras.pick(undefined);
  if (!camera) throw new Error('a TCP port without a default camera');
  const session = link.openSession('legacy', legacyEncoder, camera);
  link.readOn(rest, decodeCommands(), (e) => onCommand(link, session, e));
}

function onCommand(link: ConnectionLink, session: ClientSession, e: CommandEvent): void {
  if (e.kind === 'command') {
    const spend = link.budget.spend(link.log);
    if (spend === 'close') link.destroy();
    if (spend !== 'answer') return;
    session.command(e.command);
    return;
  }
  session.unknown(e.byte);
  if (session.counters.unknownBytes > MAX_UNKNOWN_BYTES && !link.closing) {
    link.log.warn({ unknownBytes: session.counters.unknownBytes }, 'client sends bytes that are no commands; closing');
    link.destroy();
  }
}
