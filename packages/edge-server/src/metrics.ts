// Prometheus metrics for one server instance. Each instance owns its Registry, so several
// servers in one process (tests, embedding) never share or clash on metric names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClientProtocol, ServerMetrics } from './contracts.js';

/** ServerMetrics plus the recording side used by the hub and the client registry. */
export interface EdgeServerMetrics extends ServerMetrics {
  readonly registry: Registry;
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

/** A Prometheus registry of this server's metrics. */
export function createServerMetrics(opts: { defaultMetrics?: boolean } = {}): EdgeServerMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'edgecam_' });

  // Per-frame counts are plain numbers, folded into their counters when the registry is read:
  // prom-client's inc() hashes the labels on every call, even on a bound child.
  let capturedTally = 0;
  const sentTally: Record<ClientProtocol, number> = { legacy: 0, v2: 0, http: 0 };
  const bytesTally: Record<ClientProtocol, number> = { legacy: 0, v2: 0, http: 0 };
  const fold = (tally: Record<ClientProtocol, number>) =>
    function (this: Counter<'protocol'>): void {
      for (const protocol of Object.keys(tally) as ClientProtocol[]) {
        if (tally[protocol] === 0) continue;
        this.inc({ protocol }, tally[protocol]);
        tally[protocol] = 0;
      }
    };

  const captured = new Counter({
    name: 'edgecam_frames_captured_total',
    help: 'Frames received from the capture source.',
    registers: [registry],
    collect(this: Counter) {
      if (capturedTally > 0) this.inc(capturedTally);
      capturedTally = 0;
    },
  });
  const restarts = new Counter({
    name: 'edgecam_source_restarts_total',
    help: 'Times the capture source was restarted after it failed.',
    registers: [registry],
  });
  const sent = new Counter({
    name: 'edgecam_frames_sent_total',
    help: 'Frames written to clients.',
    labelNames: ['protocol'],
    registers: [registry],
    collect: fold(sentTally),
  });
  const dropped = new Counter({
    name: 'edgecam_frames_dropped_total',
    help: 'Frames skipped for clients that could not keep up (newest frame wins).',
    labelNames: ['protocol'],
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'edgecam_bytes_sent_total',
    help: 'Bytes of frames (headers included) written to clients.',
    labelNames: ['protocol'],
    registers: [registry],
    collect: fold(bytesTally),
  });
  const clients = new Gauge({
    name: 'edgecam_clients',
    help: 'Connected clients.',
    labelNames: ['protocol'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'edgecam_capture_to_send_seconds',
    help: 'Time from a frame arriving from the source to its being written to a client.',
    labelNames: ['protocol'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // Every protocol shows up from the start, with zeros, so dashboards need no absent() tricks.
  // The per-protocol children are bound once: frameSent runs per frame per client, and binding
  // labels on each call would hash them every time.
  const bind = (protocol: ClientProtocol) => {
    const bound = {
      dropped: dropped.labels({ protocol }),
      clients: clients.labels({ protocol }),
      latency: latency.labels({ protocol }),
    };
    sent.inc({ protocol }, 0);
    bound.dropped.inc(0);
    bytes.inc({ protocol }, 0);
    bound.clients.set(0);
    return bound;
  };
  const perProtocol: Record<ClientProtocol, ReturnType<typeof bind>> = { legacy: bind('legacy'), v2: bind('v2'), http: bind('http') };
  const of = (protocol: ClientProtocol) => perProtocol[protocol];

  const cameraCaptured = new Counter({
    name: 'edgecam_camera_frames_captured_total',
    help: 'Frames received from the capture source, per camera.',
    labelNames: ['camera'],
    registers: [registry],
  });
  const cameraRestarts = new Counter({
    name: 'edgecam_camera_source_restarts_total',
    help: 'Times the capture source was restarted after it failed, per camera.',
    labelNames: ['camera'],
    registers: [registry],
  });
  const cameraSent = new Counter({
    name: 'edgecam_camera_frames_sent_total',
    help: 'Frames written to clients, per camera.',
    labelNames: ['camera'],
    registers: [registry],
  });
  const cameraBytes = new Counter({
    name: 'edgecam_camera_bytes_sent_total',
    help: 'Bytes of frames (headers included) written to clients, per camera.',
    labelNames: ['camera'],
    registers: [registry],
  });
  const perCamera = new Map<string, CameraMetrics>();
  const forCamera = (camera: string): CameraMetrics => {
    let m = perCamera.get(camera);
    if (!m) {
      const c = { captured: cameraCaptured.labels({ camera }), restarts: cameraRestarts.labels({ camera }), sent: cameraSent.labels({ camera }), bytes: cameraBytes.labels({ camera }) };
      for (const counter of Object.values(c)) counter.inc(0);
      m = {
        frameCaptured: () => {
          captured.inc();
          c.captured.inc();
        },
        sourceRestarted: () => {
          restarts.inc();
          c.restarts.inc();
        },
        frameSent: (n) => {
          c.sent.inc();
          c.bytes.inc(n);
        },
      };
      perCamera.set(camera, m);
    }
    return m;
  };

  // Read from the features' own counters at scrape time, so nothing is added to their hot paths.
  const observe = (series: ObservedSeries): void => {
    new Gauge({
      name: series.name,
      help: series.help,
      labelNames: ['camera'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [camera, value] of series.read()) this.set({ camera }, value);
      },
    });
  };

  return {
    registry,
    forCamera,
    observe,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    frameCaptured: () => {
      capturedTally++;
    },
    sourceRestarted: () => restarts.inc(),
    frameSent: (protocol, n, latencySeconds) => {
      sentTally[protocol]++;
      bytesTally[protocol] += n;
      of(protocol).latency.observe(Math.max(0, latencySeconds));
    },
    framesDropped: (protocol, count) => of(protocol).dropped.inc(count),
    clientsChanged: (protocol, count) => of(protocol).clients.set(count),
  };
}
