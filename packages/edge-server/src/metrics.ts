// Prometheus metrics for one server instance. The per-frame paths only add to plain numbers; the
// text is made when /metrics is read (prometheus-text.ts). prom-client, for Node's process
// metrics, is loaded by the first scrape: a server nobody scrapes never loads it (its event-loop
// histogram and GC observer cost memory and CPU). Each instance keeps its own figures, so several
// servers in one process (tests, embedding) never share or clash.
import type { ClientProtocol, ServerMetrics } from './contracts.js';
import { histogramSamples, PROMETHEUS_CONTENT_TYPE, prometheusText, type Family, type Sample } from './prometheus-text.js';

/** ServerMetrics plus the recording side used by the hub and the client registry. */
export interface EdgeServerMetrics extends ServerMetrics {
  frameCaptured(): void;
  sourceRestarted(): void;
  frameSent(protocol: ClientProtocol, bytes: number, latencySeconds: number): void;
  framesDropped(protocol: ClientProtocol, count: number): void;
  clientsChanged(protocol: ClientProtocol, count: number): void;
  /** The per-camera series of one camera (label `camera`), bound once. */
  forCamera(camera: string): CameraMetrics;
  /** A series of per-camera figures (label `camera`) read at each scrape; once per name. */
  observe(series: ObservedSeries): void;
}

/** Figures something keeps itself (a feature's counters), read only when /metrics is scraped. */
export interface ObservedSeries {
  readonly name: string;
  readonly help: string;
  /** Each camera's figure now; a camera left out has no sample. */
  read(): Iterable<readonly [camera: string, value: number]>;
}

/** What one camera's hub and clients count, besides the server-wide totals. */
export interface CameraMetrics {
  frameCaptured(): void;
  sourceRestarted(): void;
  frameSent(bytes: number): void;
}

// Every protocol shows up from the start, with zeros, so dashboards need no absent() tricks.
const PROTOCOLS: readonly ClientProtocol[] = ['legacy', 'v2', 'http'];
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface ProtocolFigures {
  sent: number;
  bytes: number;
  dropped: number;
  clients: number;
  /** Observations per latency bucket, the last one above every bound (not cumulative). */
  readonly latency: Float64Array;
  latencySum: number;
}

interface CameraFigures {
  captured: number;
  restarts: number;
  sent: number;
  bytes: number;
}

/** The server's metrics; `defaultMetrics: false` leaves out Node's process metrics (tests). */
export function createServerMetrics(opts: { defaultMetrics?: boolean } = {}): EdgeServerMetrics {
  let captured = 0;
  let restarts = 0;
  const byProtocol = new Map<ClientProtocol, ProtocolFigures>(
    PROTOCOLS.map((p) => [p, { sent: 0, bytes: 0, dropped: 0, clients: 0, latency: new Float64Array(LATENCY_BUCKETS.length + 1), latencySum: 0 }]),
  );
  const of = (protocol: ClientProtocol) => byProtocol.get(protocol)!;
  const byCamera = new Map<string, CameraFigures>();
  const observed = new Map<string, ObservedSeries>();
  let processMetrics: Promise<() => Promise<string>> | undefined;

  const forCamera = (camera: string): CameraMetrics => {
    let c = byCamera.get(camera);
    if (!c) {
      c = { captured: 0, restarts: 0, sent: 0, bytes: 0 };
      byCamera.set(camera, c);
    }
    const figures = c;
    return {
      frameCaptured: () => {
        captured++;
        figures.captured++;
      },
      sourceRestarted: () => {
        restarts++;
        figures.restarts++;
      },
      frameSent: (n) => {
        figures.sent++;
        figures.bytes += n;
      },
    };
  };

  const perProtocol = (pick: (f: ProtocolFigures) => number): Sample[] => PROTOCOLS.map((protocol) => ({ labels: { protocol }, value: pick(of(protocol)) }));
  const perCamera = (pick: (f: CameraFigures) => number): Sample[] => [...byCamera].map(([camera, f]) => ({ labels: { camera }, value: pick(f) }));
  const families = (): Family[] => [
    { name: 'edgecam_frames_captured_total', help: 'Frames received from the capture source.', type: 'counter', samples: [{ value: captured }] },
    { name: 'edgecam_source_restarts_total', help: 'Times the capture source was restarted after it failed.', type: 'counter', samples: [{ value: restarts }] },
    { name: 'edgecam_frames_sent_total', help: 'Frames written to clients.', type: 'counter', samples: perProtocol((f) => f.sent) },
    { name: 'edgecam_frames_dropped_total', help: 'Frames skipped for clients that could not keep up (newest frame wins).', type: 'counter', samples: perProtocol((f) => f.dropped) },
    { name: 'edgecam_bytes_sent_total', help: 'Bytes of frames (headers included) written to clients.', type: 'counter', samples: perProtocol((f) => f.bytes) },
    { name: 'edgecam_clients', help: 'Connected clients.', type: 'gauge', samples: perProtocol((f) => f.clients) },
    {
      name: 'edgecam_capture_to_send_seconds',
      help: 'Time from a frame arriving from the source to its being written to a client.',
      type: 'histogram',
      samples: PROTOCOLS.flatMap((protocol) => [...histogramSamples({ protocol }, LATENCY_BUCKETS, of(protocol).latency, of(protocol).latencySum)]),
    },
    { name: 'edgecam_camera_frames_captured_total', help: 'Frames received from the capture source, per camera.', type: 'counter', samples: perCamera((f) => f.captured) },
    { name: 'edgecam_camera_source_restarts_total', help: 'Times the capture source was restarted after it failed, per camera.', type: 'counter', samples: perCamera((f) => f.restarts) },
    { name: 'edgecam_camera_frames_sent_total', help: 'Frames written to clients, per camera.', type: 'counter', samples: perCamera((f) => f.sent) },
    { name: 'edgecam_camera_bytes_sent_total', help: 'Bytes of frames (headers included) written to clients, per camera.', type: 'counter', samples: perCamera((f) => f.bytes) },
    ...[...observed.values()].map(
      (s): Family => ({ name: s.name, help: s.help, type: 'gauge', samples: [...s.read()].map(([camera, value]) => ({ labels: { camera }, value })) }),
    ),
  ];

  return {
    forCamera,
    observe: (series) => {
      if (observed.has(series.name)) throw new Error(`the metric ${series.name} is already observed: each series is registered once`);
      observed.set(series.name, series);
    },
    contentType: PROMETHEUS_CONTENT_TYPE,
    text: async () => {
      const ours = prometheusText(families());
      if (opts.defaultMetrics === false) return ours;
      processMetrics ??= loadProcessMetrics();
      return ours + (await (await processMetrics)());
    },
    frameCaptured: () => {
      captured++;
    },
    sourceRestarted: () => {
      restarts++;
    },
    frameSent: (protocol, n, latencySeconds) => {
      const f = of(protocol);
      f.sent++;
      f.bytes += n;
      const s = Math.max(0, latencySeconds);
      let i = 0;
      while (i < LATENCY_BUCKETS.length && s > LATENCY_BUCKETS[i]!) i++;
      f.latency[i]!++;
      f.latencySum += s;
    },
    framesDropped: (protocol, count) => {
      of(protocol).dropped += count;
    },
    clientsChanged: (protocol, count) => {
      of(protocol).clients = count;
    },
  };
}

/** prom-client's process and Node metrics (CPU, memory, handles, event loop, GC), prefixed `edgecam_`, from now on. */
async function loadProcessMetrics(): Promise<() => Promise<string>> {
  const { Registry, collectDefaultMetrics } = await import('prom-client');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'edgecam_' });
  return () => registry.metrics();
}
