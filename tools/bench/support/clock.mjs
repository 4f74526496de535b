// One clock for every process of a benchmark: CLOCK_MONOTONIC (process.hrtime), which Linux shares
// between processes, shifted by an offset the parent measures once and hands to its children, so
// a capture time stamped in the server process and a receive time read in the client process
// subtract exactly. (performance.timeOrigin anchors each process to the wall clock once, at its
// start: two processes started on either side of an NTP step or during a slew disagree.)

/** Microseconds to add to hrtime to get (about) microseconds since the Unix epoch. */
export function measureEpochOffsetUs() {
  return Date.now() * 1000 - Number(process.hrtime.bigint() / 1000n);
}

export function makeClock(offsetUs) {
  return () => Number(process.hrtime.bigint() / 1000n) + offsetUs;
}
