// Benchmark clients: open a connection, ask for the stream (legacy `3`, or v2 magic + HELLO +
// COMMAND 3), and count whole frames as they complete without copying or keeping their bytes,
// so a client is never the bottleneck and many fit in one process. v2 frames are timed with the
// shared clock: `latencies` holds receive time minus capture time for each frame, `seqs` their
// sequence numbers.
import { connect } from 'node:net';
import { V2_MAGIC, encodeCommandMessage, encodeHello } from '@edgecam/protocol';

const V2_FRAME = 0x82;
const V2_FRAME_FIELDS = 12; // u32 seq + u64 capture time

/** Counts frames in a v1 or v2 server-to-client byte stream, chunk by chunk. */
export class FrameCounter {
  constructor(framing, onFrame) {
    this.v2 = framing === 'v2';
    this.onFrame = onFrame;
    this.head = Buffer.alloc(5 + V2_FRAME_FIELDS);
    this.headNeed = this.v2 ? 5 : 4;
    this.headHave = 0;
    this.payloadLeft = -1; // -1: reading a header
    this.isFrame = false;
    this.frameBytes = 0;
  }

  push(chunk, nowUs) {
    let at = 0;
    while (at < chunk.length) {
      if (this.payloadLeft < 0) {
        const n = Math.min(this.headNeed - this.headHave, chunk.length - at);
        chunk.copy(this.head, this.headHave, at, at + n);
        this.headHave += n;
        at += n;
        if (this.headHave < this.headNeed) return;
        this.onHeader();
        if (this.payloadLeft === 0) this.complete(nowUs);
        continue;
      }
      const n = Math.min(this.payloadLeft, chunk.length - at);
      this.payloadLeft -= n;
      at += n;
      if (this.payloadLeft === 0) this.complete(nowUs);
    }
  }

  onHeader() {
    if (!this.v2) {
      this.frameBytes = this.head.readUInt32BE(0);
      this.payloadLeft = this.frameBytes;
      this.isFrame = true;
      return;
    }
    const length = this.head.readUInt32BE(1);
    if (this.head[0] === V2_FRAME && this.headNeed === 5) {
      this.headNeed = 5 + V2_FRAME_FIELDS; // read seq and capture time before skipping the JPEG
      return;
    }
    this.isFrame = this.head[0] === V2_FRAME;
    this.frameBytes = this.isFrame ? length - V2_FRAME_FIELDS : length;
    this.payloadLeft = this.frameBytes;
  }

  complete(nowUs) {
    if (this.isFrame) {
      const seq = this.v2 ? this.head.readUInt32BE(5) : 0;
      const captureUs = this.v2 ? Number(this.head.readBigUInt64BE(9)) : 0;
      this.onFrame(seq, captureUs, this.frameBytes, nowUs);
    }
    this.payloadLeft = -1;
    this.headHave = 0;
    this.headNeed = this.v2 ? 5 : 4;
    this.isFrame = false;
  }
}

/**
 * A streaming client on 127.0.0.1:port. `framing` 'v1' sends the legacy `3`; 'v2' the magic,
 * a HELLO (naming `camera`, if given) and COMMAND 3. `record` keeps the seq of each frame, and
 * with a `clock` its latency.
 */
export function openStreamClient(port, { framing = 'v1', clock, record = false, camera } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const client = {
      socket,
      frames: 0,
      bytes: 0,
      seqs: [],
      latencies: [],
      error: null,
      closed: false,
      close: () => socket.destroy(),
    };
    const counter = new FrameCounter(framing, (seq, captureUs, _bytes, nowUs) => {
      client.frames++;
      if (record) {
        client.seqs.push(seq);
        if (clock) client.latencies.push(nowUs - captureUs);
      }
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      client.bytes += chunk.length;
      try {
        counter.push(chunk, clock ? clock() : 0);
      } catch (err) {
        client.error = err;
        socket.destroy();
      }
    });
    socket.on('close', () => (client.closed = true));
    socket.once('error', (err) => {
      client.error = err;
      reject(err);
    });
    socket.once('connect', () => {
      if (framing === 'v2') socket.write(Buffer.concat([V2_MAGIC, encodeHello(camera === undefined ? { client: 'bench' } : { client: 'bench', camera }), encodeCommandMessage('3')]));
      else socket.write('3');
      resolve(client);
    });
  });
}
