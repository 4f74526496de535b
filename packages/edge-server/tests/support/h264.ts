// What the H.264 tests read out of the hub: the NAL units of Annex-B bytes, the SPS among them,
// and a sink that keeps every access unit it is sent.
import type { AccessUnit } from '../../src/h264/access-units.js';
import type { H264Sink } from '../../src/h264/h264-hub.js';

/** The NAL units of Annex-B bytes, start codes removed. */
export function nalUnits(annexB: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < annexB.length; i++) {
    if (annexB[i] === 0 && annexB[i + 1] === 0 && annexB[i + 2] === 1) starts.push(i + 3);
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : annexB.length;
    while (end > s && annexB[end - 1] === 0) end--;
    return annexB.subarray(s, end);
  });
}

/** The first SPS (NAL type 7) in Annex-B bytes. */
export const spsOf = (annexB: Buffer): Buffer | undefined => nalUnits(annexB).find((n) => (n[0]! & 0x1f) === 7);

/** A sink that is always ready and keeps what it gets. */
export class Collector implements H264Sink {
  units: AccessUnit[] = [];
  ready(): boolean {
    return true;
  }
  send(unit: AccessUnit): void {
    this.units.push(unit);
  }
}
