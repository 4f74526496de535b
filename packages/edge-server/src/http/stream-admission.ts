// The long-lived HTTP requests (MJPEG viewers, replays, WebRTC and MP4 viewers, event streams) are limited
// by count instead of by request rate: each kind at most --max-clients over all hosts and
// --max-per-address per host, a slot taken when the stream opens and given back when it closes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { peerKey } from '../access/address-key.js';
import { PerHostCount } from '../access/per-host-count.js';
import { formatPeerAddress } from '../log/peer-address.js';
import { sendError } from './responses.js';

/** What a slot is for; each kind is counted apart, as the TCP side counts each protocol apart. */
export type StreamKind = 'mjpeg' | 'replay' | 'webrtc' | 'mp4' | 'events';

const KIND_NAMES: Readonly<Record<StreamKind, string>> = {
  mjpeg: 'MJPEG streams',
  replay: 'replays',
  webrtc: 'WebRTC viewers',
  mp4: 'MP4 streams',
  events: 'event streams',
};
const RETRY_AFTER = { 'Retry-After': '5' };

/** Open streams per kind, over all hosts and per host (peerKey: on a SLAAC LAN every host shares one /64). */
export class StreamAdmission {
  private readonly kinds = new Map<StreamKind, { open: number; perHost: PerHostCount }>();

  /** `maxClients` per kind and `maxPerAddress` per host and kind; 0 means no limit. */
  constructor(
    readonly maxClients: number,
    readonly maxPerAddress: number,
  ) {}

  /**
   * A slot for one stream of `kind` from the request's host, or undefined once the refusal is
   * answered (503 TOO_MANY_CLIENTS, 429 TOO_MANY_STREAMS). The function gives the slot back, once
   * however often it is called, so every way a stream can end may call it.
   */
  open(kind: StreamKind, req: IncomingMessage, res: ServerResponse, log: Logger): (() => void) | undefined {
    const k = this.kinds.get(kind) ?? { open: 0, perHost: new PerHostCount(this.maxPerAddress) };
    this.kinds.set(kind, k);
    const what = KIND_NAMES[kind];
    const { maxClients, maxPerAddress } = this;
    if (maxClients > 0 && k.open >= maxClients) {
      log.warn({ peer: formatPeerAddress(req.socket), kind, maxClients }, 'too many streams; refusing (--max-clients)');
      sendError(res, 503, 'TOO_MANY_CLIENTS', `this server has ${maxClients} ${what} open, the most it takes (--max-clients): try again once one has closed`, RETRY_AFTER);
      return undefined;
    }
    const host = peerKey(req.socket.remoteAddress);
    if (k.perHost.full(host)) {
      log.warn({ peer: formatPeerAddress(req.socket), kind, maxPerAddress }, 'too many streams from one address; refusing (--max-per-address)');
      sendError(res, 429, 'TOO_MANY_STREAMS', `your address has ${maxPerAddress} ${what} open, the most this server allows one host (--max-per-address): close one first`, RETRY_AFTER);
      return undefined;
    }
    k.open++;
    const giveBack = k.perHost.take(host);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      k.open--;
      giveBack();
    };
  }
}
