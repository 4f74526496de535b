// A broker may declare any packet length up to 268 MB, and mqtt.js's parser buffers a packet
// whole before it parses it. We subscribe to nothing, so what a broker sends us is acks of a few
// bytes: this reads each fixed header as it passes and ends the connection at the first packet
// declared larger than the cap, before its body is buffered.
import type { Duplex } from 'node:stream';

/** Incoming packets larger than this end the connection; ours are CONNACKs and acks. */
export const MAX_INCOMING_MQTT_PACKET = 64 * 1024;

/** Follows MQTT fixed headers across chunks: type byte, then 1–4 bytes of remaining length. */
export class MqttPacketSizeCheck {
  /** Body bytes of the current packet still to pass; -1 while a header is being read. */
  private bodyLeft = -1;
  private length = 0;
  private lengthBytes = 0;
  private inHeader = false;

  constructor(private readonly max: number) {}

  /** The declared length of the first packet over the cap in `chunk`, or null when none is. */
  push(chunk: Uint8Array): number | null {
    for (let i = 0; i < chunk.length; ) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++]!;
      if (!this.inHeader) {
        // The type and flags byte; the length follows.
        this.inHeader = true;
        this.length = this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * 128 ** this.lengthBytes++;
      if (byte & 0x80 && this.lengthBytes < 4) continue;
      this.inHeader = false;
      if (this.length > this.max) return this.length;
      this.bodyLeft = this.length;
    }
    return null;
  }
}

/** Ends `stream` (with an error naming the size) when the broker declares a packet over `max`. */
export function capIncomingPackets(stream: Duplex, max = MAX_INCOMING_MQTT_PACKET): Duplex {
  const check = new MqttPacketSizeCheck(max);
  // Before mqtt.js's own listener: the chunk that declares it still reaches the parser, but the
  // body it announces never arrives.
  stream.prependListener('data', (chunk: Buffer) => {
    const declared = check.push(chunk);
    if (declared !== null) {
      stream.destroy(Object.assign(new Error(`the broker sent a packet of ${declared} bytes, more than the ${max} this server takes: check that mqtt.url names an MQTT broker`), { code: 'MQTT_PACKET_TOO_LARGE' }));
    }
  });
  return stream;
}
