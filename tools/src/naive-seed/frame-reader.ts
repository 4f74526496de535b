// The seed client's receive loop (`receive_image`), run over bytes already in memory so the
// decoding benchmark can time it on exactly the chunks our decoder gets. The design, kept on
// purpose: read the 4-byte length, then read at most 1024 bytes at a time and grow the image by
// concatenation (`image_data += packet`), which copies everything received so far on every read:
// O(n²/1024) bytes copied for an n-byte frame.

/** Returns at most `max` bytes, at least one; an empty buffer at the end of the stream. */
export type SyncRecv = (max: number) => Buffer;

/** The same 1024 the seed passes to recv(). */
export const RECV_SIZE = 1024;

/** Reads one frame the seed's way; null at the end of the stream. */
export function receiveImageSync(recv: SyncRecv): Buffer | null {
  // The seed trusts one recv(4) to return 4 bytes; that holds on loopback but is not guaranteed,
  // so the length is read until complete (a bug we do not need to time).
  let head = Buffer.alloc(0);
  while (head.length < 4) {
    const part = recv(4 - head.length);
    if (part.length === 0) return null;
    head = Buffer.concat([head, part]);
  }
  const length = head.readUInt32BE(0);
  let data = Buffer.alloc(0);
  while (data.length < length) {
    const packet = recv(Math.min(RECV_SIZE, length - data.length));
    if (packet.length === 0) return null;
    data = Buffer.concat([data, packet]);
  }
  return data;
}

/** A recv() over a list of chunks, as the socket handed them over (at most `max` bytes per call). */
export function recvFromChunks(chunks: readonly Buffer[]): SyncRecv {
  let index = 0;
  let offset = 0;
  return (max) => {
    while (index < chunks.length && offset >= (chunks[index] as Buffer).length) {
      index++;
      offset = 0;
    }
    const chunk = chunks[index];
    if (!chunk) return Buffer.alloc(0);
    const end = Math.min(chunk.length, offset + max);
    const part = chunk.subarray(offset, end);
    offset = end;
    return part;
  };
}

/** Every frame of a v1 byte stream given as chunks, read the seed's way. */
export function readAllFramesSync(chunks: readonly Buffer[], onFrame: (jpeg: Buffer) => void): void {
  const recv = recvFromChunks(chunks);
  for (let jpeg = receiveImageSync(recv); jpeg !== null; jpeg = receiveImageSync(recv)) onFrame(jpeg);
}
