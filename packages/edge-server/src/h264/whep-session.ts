// One WebRTC viewer (WHEP, RFC 9725): werift answers the browser's offer with one sendonly H.264
// track, and once connected the camera's access units go out as RTP (RFC 6184 packetization by
// werift's H264Packetizer), stamped with their capture time on the 90 kHz clock.
import { randomUUID } from 'node:crypto';
import { H264Packetizer, MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import type { Logger } from 'pino';
import type { ClientHandle } from '../contracts.js';
import type { AccessUnit } from './access-units.js';
import type { H264Hub, H264Sink } from './h264-hub.js';

// A browser that has not connected within this long gave up (or never could): free its slot.
const CONNECT_TIMEOUT_MS = 15_000;
// How long a connection may stay 'disconnected' (ICE consent lost) before the viewer is dropped.
const LOST_TIMEOUT_MS = 10_000;

/** The codec offered to browsers: constrained baseline 3.1, as our libx264 arguments produce, in packetization mode 1. */
function h264Codec(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90000,
    rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  });
}

/** Options of WhepSession. */
export interface WhepSessionOptions {
  hub: H264Hub;
  client: ClientHandle;
  logger: Logger;
  /** Extra host candidates (e.g. 127.0.0.1 for loopback viewers). */
  iceAddresses?: string[];
  onClosed: (session: WhepSession) => void;
}

/** One WHEP viewer: its peer connection, and its place among the hub's sinks once connected. */
export class WhepSession implements H264Sink {
  readonly id = randomUUID();
  private readonly pc: RTCPeerConnection;
  private readonly track = new MediaStreamTrack({ kind: 'video' });
  private readonly packetizer = new H264Packetizer({ inputFormat: 'annexb' });
  private readonly opts: WhepSessionOptions;
  private detach: (() => void) | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private lostTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(opts: WhepSessionOptions) {
    this.opts = opts;
    this.pc = new RTCPeerConnection({
      codecs: { audio: [], video: [h264Codec()] },
      // Given always: left out, werift asks Google's STUN server on every offer.
      iceServers: opts.hub.iceServers,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: opts.iceAddresses,
    });
    this.pc.addTransceiver(this.track, { direction: 'sendonly' });
    this.pc.connectionStateChange.subscribe((state) => {
      if (this.lostTimer) clearTimeout(this.lostTimer);
      this.lostTimer = null;
      if (state === 'connected') this.connected();
      else if (state === 'failed' || state === 'closed') void this.close(`peer connection ${state}`);
      else if (state === 'disconnected') {
        // A viewer that vanished without a DELETE (tab closed, network gone) must not keep the encoder running.
        this.lostTimer = setTimeout(() => void this.close('peer connection lost'), LOST_TIMEOUT_MS);
        this.lostTimer.unref();
      }
    });
  }

  /** Takes the browser's SDP offer; returns the answer with our candidates (no trickle). */
  async answer(offerSdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.connectTimer = setTimeout(() => void this.close('not connected in time'), CONNECT_TIMEOUT_MS);
    this.connectTimer.unref();
    const sdp = this.pc.localDescription?.sdp;
    if (!sdp) throw new Error('werift produced no answer');
    return sdp;
  }

  ready(): boolean {
    return !this.closed;
  }

  send(unit: AccessUnit): void {
    // The 90 kHz RTP clock from the capture time (µs), so the browser's receive stats see real capture spacing.
    const rtpTimestamp = Math.floor((unit.timestampUs * 9) / 100) >>> 0;
    let bytes = 0;
    for (const packet of this.packetizer.packetize(unit.data, rtpTimestamp, { isKeyframe: unit.keyframe })) {
      bytes += packet.payload.length;
      this.track.writeRtp(packet);
    }
    this.opts.client.sent(bytes, unit.timestampUs);
  }

  /** Ends the viewer (DELETE, a failed connection, or the server closing). Idempotent. */
  async close(why: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.lostTimer) clearTimeout(this.lostTimer);
    this.detach?.();
    this.detach = null;
    this.opts.client.close();
    this.opts.onClosed(this);
    this.opts.logger.info({ session: this.id, why }, 'webrtc viewer left');
    await this.pc.close().catch(() => {});
  }

  private connected(): void {
    if (this.closed || this.detach) return;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.opts.client.setMode('streaming');
    this.opts.logger.info({ session: this.id }, 'webrtc viewer connected');
    // A viewer starts at the next keyframe: replaying older pictures would sit in the browser's
    // jitter buffer and add their age to the latency for good.
    this.detach = this.opts.hub.attach(this, { replay: false });
  }
}
