import { describe, expect, it } from 'vitest';
import { createServerMetrics } from '../src/metrics.js';

/** The value of one sample line in Prometheus text. */
function value(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  if (!line) throw new Error(`no ${sample} in the metrics text`);
  return Number(line.slice(sample.length + 1));
}

describe('server metrics', () => {
  it('counts frames and bytes sent per protocol across scrapes, each once', async () => {
    const m = createServerMetrics({ defaultMetrics: false });
    for (let i = 0; i < 3; i++) m.frameSent('legacy', 100, 0.001);
    m.frameCaptured();
    let text = await m.text();
    expect(value(text, 'edgecam_frames_sent_total{protocol="legacy"}')).toBe(3);
    expect(value(text, 'edgecam_bytes_sent_total{protocol="legacy"}')).toBe(300);
    expect(value(text, 'edgecam_frames_sent_total{protocol="v2"}')).toBe(0);
    expect(value(text, 'edgecam_frames_captured_total')).toBe(1);
    m.frameSent('legacy', 50, 0.001);
    m.frameSent('http', 7, 0.001);
    m.frameCaptured();
    text = await m.text();
    expect(value(text, 'edgecam_frames_sent_total{protocol="legacy"}')).toBe(4);
    expect(value(text, 'edgecam_bytes_sent_total{protocol="legacy"}')).toBe(350);
    expect(value(text, 'edgecam_frames_sent_total{protocol="http"}')).toBe(1);
    expect(value(text, 'edgecam_bytes_sent_total{protocol="http"}')).toBe(7);
    expect(value(text, 'edgecam_frames_captured_total')).toBe(2);
    expect(value(await m.text(), 'edgecam_frames_sent_total{protocol="legacy"}')).toBe(4);
  });
});
