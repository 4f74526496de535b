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

  it('puts each latency in the first bucket at or above it', async () => {
    const m = createServerMetrics({ defaultMetrics: false });
    m.frameSent('v2', 1, 0.001);
    m.frameSent('v2', 1, 0.0011);
    m.frameSent('v2', 1, 9);
    m.frameSent('v2', 1, -0.5);
    const text = await m.text();
    expect(value(text, 'edgecam_capture_to_send_seconds_bucket{le="0.0005",protocol="v2"}')).toBe(1);
    expect(value(text, 'edgecam_capture_to_send_seconds_bucket{le="0.001",protocol="v2"}')).toBe(2);
    expect(value(text, 'edgecam_capture_to_send_seconds_bucket{le="0.002",protocol="v2"}')).toBe(3);
    expect(value(text, 'edgecam_capture_to_send_seconds_bucket{le="2.5",protocol="v2"}')).toBe(3);
    expect(value(text, 'edgecam_capture_to_send_seconds_bucket{le="+Inf",protocol="v2"}')).toBe(4);
    expect(value(text, 'edgecam_capture_to_send_seconds_count{protocol="v2"}')).toBe(4);
    expect(value(text, 'edgecam_capture_to_send_seconds_sum{protocol="v2"}')).toBeCloseTo(9.0021, 6);
    expect(value(text, 'edgecam_capture_to_send_seconds_count{protocol="http"}')).toBe(0);
  });

  it('keeps per-camera counts and the clients gauge, and reads observed series at each scrape', async () => {
    const m = createServerMetrics({ defaultMetrics: false });
    const front = m.forCamera('front');
    front.frameCaptured();
    front.frameCaptured();
    front.sourceRestarted();
    front.frameSent(10);
    m.clientsChanged('http', 2);
    m.framesDropped('http', 3);
    let saved = 1;
    m.observe({ name: 'edgecam_things', help: 'Things.', read: () => [['front', saved]] });
    expect(() => m.observe({ name: 'edgecam_things', help: 'Again.', read: () => [] })).toThrow(/already observed/);
    let text = await m.text();
    expect(value(text, 'edgecam_camera_frames_captured_total{camera="front"}')).toBe(2);
    expect(value(text, 'edgecam_camera_source_restarts_total{camera="front"}')).toBe(1);
    expect(value(text, 'edgecam_camera_bytes_sent_total{camera="front"}')).toBe(10);
    expect(value(text, 'edgecam_frames_captured_total')).toBe(2);
    expect(value(text, 'edgecam_source_restarts_total')).toBe(1);
    expect(value(text, 'edgecam_clients{protocol="http"}')).toBe(2);
    expect(value(text, 'edgecam_frames_dropped_total{protocol="http"}')).toBe(3);
    expect(value(text, 'edgecam_things{camera="front"}')).toBe(1);
    saved = 4;
    text = await m.text();
    expect(value(text, 'edgecam_things{camera="front"}')).toBe(4);
  });

  it("adds Node's process metrics, prefixed edgecam_, when they are not turned off", async () => {
    const text = await createServerMetrics().text();
    expect(value(text, 'edgecam_frames_captured_total')).toBe(0);
    expect(text).toMatch(/^edgecam_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^edgecam_nodejs_heap_size_used_bytes \d/m);
  });
});
