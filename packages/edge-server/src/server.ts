// Puts the pieces together: one capture (FrameHub), one client registry and metrics, the TCP
// server and the HTTP server, all sharing them; and a close() that undoes it all in order.
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { AccessControl } from './access/access-control.js';
import type { ThrottleTuning } from './access/failure-throttle.js';
import { HostRateLimiter } from './access/rate-limiter.js';
import type { ClientRegistry } from './contracts.js';
import { DEFAULT_CAMERA_NAME, cameraOf, type CameraConfig } from './config/camera-config.js';
import { featuresNeedFfmpeg, serveFeatures, startCameraFeatures, type FeatureBlocks, type RunningFeatures, type ServedFeatures } from './camera/feature-runner.js';
import type { FeatureDeps } from './features.js';
import { EventBus } from './camera/event-bus.js';
import type { AnyServerService, RunningService } from './camera/service.js';
import { SERVICES } from './features.js';
import { Camera, CameraRegistry, type SourceMaker } from './camera/cameras.js';
import { DEFAULT_CONFIG, SHORT_TOKEN_LENGTH, type ServerConfig } from './config/config.js';
import { createClientRegistry } from './client-registry.js';
import { resolveFfmpeg, type ResolvedFfmpeg } from './sources/ffmpeg/resolve-ffmpeg.js';
import type { SharedFrameHub } from './camera/frame-hub.js';
import { createHttpServer, type EdgeHttpServer, type HttpLimits } from './http/http-server.js';
import { pageUrl } from './http/page-url.js';
import { createLogger } from './log/logger.js';
import { listen } from '@edgecam/runtime';
import { LogLimiter, type LogLimits } from './log/log-limiter.js';
import { createServerMetrics, type EdgeServerMetrics } from './metrics.js';
import { createSource } from './sources/create-source.js';
import type { SupervisorTuning } from './sources/ffmpeg/ffmpeg-source.js';
import type { FrameSource } from './sources/source.js';
import { formatSourceSpec, needsFfmpeg } from './sources/source-spec.js';
import type { CameraChoice, ServedCamera } from './tcp/types.js';
import { clipReason } from './tcp/v2-connection.js';
import { EdgeTcpServer, type TcpServerOptions } from './tcp/tcp-server.js';
import type { TcpLimits } from './tcp/tcp-limits.js';
import { loadTlsMaterial, type TlsMaterial } from './tls/tls-material.js';
import { SERVER_NAME, VERSION } from './version.js';
import type { WelcomeHttp } from '@edgecam/protocol';
import type { Subscription } from 'rxjs';

/** What code (tests, benchmarks, the CLI) can set beyond the configuration. */
export interface StartOptions {
  logger?: Logger;
  /** Overrides resolveFfmpeg() (tests use a fake ffmpeg this way, or via EDGECAM_FFMPEG). */
  ffmpeg?: ResolvedFfmpeg;
  /** Input of the stdin source; default process.stdin. */
  stdin?: Readable;
  /** Restart backoff and kill grace of the ffmpeg child. */
  supervisor?: SupervisorTuning;
  /** Per-client stats line interval; default 1000 ms, 0 for none. */
  statsIntervalMs?: number;
  /** The source can never deliver again (stdin closed). The CLI shuts down. */
  onSourceEnded?: (err: Error) => void;
  /**
   * Captures from this source instead of the one config.source names (no ffmpeg is resolved).
   * For code that brings its own frames: the benchmarks feed pre-encoded JPEGs this way.
   */
  source?: FrameSource;
  /** Like `source`, for any camera, by name (the benchmarks feed several cameras this way). */
  sources?: Record<string, FrameSource>;
  /** How wrong tokens are slowed down (tests use short blocks). */
  accessTuning?: Partial<ThrottleTuning>;
  /** Overrides the HTTP limits (tests use short timeouts). */
  httpLimits?: Partial<HttpLimits>;
  /** How many log lines peers may cause (tests use short summary windows). */
  logLimits?: Partial<LogLimits>;
  /** Overrides the TCP limits (tests use short timeouts). */
  tcpLimits?: Partial<TcpLimits>;
  /** Recording and motion tuning, or a stand-in for the motion detector (tests). */
  features?: FeatureDeps;
}

/** A started server: its ports, its parts, and close(). */
export interface RunningEdgeServer {
  tcpPort: number;
  /** null with --no-http. */
  httpPort: number | null;
  /** null for the stdin source and a source given in StartOptions, which need none. */
  ffmpeg: ResolvedFfmpeg | null;
  /** Each camera's own TCP port (legacyPort), by camera name. */
  legacyPorts: Record<string, number>;
  /** The default camera's capture. */
  hub: SharedFrameHub;
  /** Every camera, the default first. */
  cameras: CameraRegistry;
  registry: ClientRegistry;
  metrics: EdgeServerMetrics;
  tcp: EdgeTcpServer;
  /** The certificate served, with its fingerprint; null without TLS. */
  tls: TlsMaterial | null;
  /** Checks tokens for TCP and HTTP alike. */
  access: AccessControl;
  /** Each camera's recording, motion detection and H.264 encoder, by camera name. */
  features: ReadonlyMap<string, RunningFeatures>;
  /** Where the cameras' events go through: v2 EVENT and the services (SSE, webhooks, MQTT) read it. */
  bus: EventBus;
  /** Stops accepting, closes every session, stops ffmpeg. Idempotent. */
  close(): Promise<void>;
}

/** The cameras the configuration names, or its one camera named `default`. */
function cameraConfigs(config: ServerConfig): CameraConfig[] {
  if (config.cameras && config.cameras.length > 0) return config.cameras;
  return [cameraOf(DEFAULT_CAMERA_NAME, {}, config, config.features ?? {})];
}

/** Starts the captures, the TCP servers and the HTTP server from one configuration. */
export async function startEdgeServer(config: ServerConfig, opts: StartOptions = {}): Promise<RunningEdgeServer> {
  const logger = opts.logger ?? createLogger(config.logLevel, { secrets: [config.token] });
  const configs = cameraConfigs(config);
  // StartOptions.source stands for the default camera's source.
  const givenSource = (c: CameraConfig, i: number) => opts.sources?.[c.name] ?? (i === 0 ? opts.source : undefined);
  const anyNeedsFfmpeg = configs.some((c, i) => (!givenSource(c, i) && needsFfmpeg(c.source)) || featuresNeedFfmpeg(c));
  // Resolved here only, and handed to the sources: their probes and their runs use this one binary.
  const ffmpeg = anyNeedsFfmpeg ? (opts.ffmpeg ?? resolveFfmpeg()) : null;
  if (ffmpeg) logger.info({ ffmpeg: ffmpeg.path, via: ffmpeg.via }, `using ffmpeg from ${ffmpeg.via}`);

  const metrics = createServerMetrics();
  // Before anything starts: a file that does not exist, a bad certificate or key stop the server here.
  const cameraList = configs.map((c, i) => {
    const given = givenSource(c, i);
    const log = configs.length > 1 ? logger.child({ camera: c.name }) : logger;
    // A camera of a cameras: map is named in a refusal (the CLI's config check names its file line first).
    const name = config.cameras && config.cameras.length > 0 ? `camera ${c.name}: ${formatSourceSpec(c.source)}` : undefined;
    const make: SourceMaker =
      given || c.source.kind === 'stdin'
        ? null
        : (settings) => createSource({ source: c.source, ...settings, logger: log, ffmpeg, stdin: opts.stdin, supervisor: opts.supervisor, name });
    const first =
      given ??
      createSource({ source: c.source, width: c.size.width, height: c.size.height, fps: c.fps, quality: c.quality, logger: log, ffmpeg, stdin: opts.stdin, supervisor: opts.supervisor, name });
    if (!given && c.source.kind === 'file' && (c.size.width !== DEFAULT_CONFIG.size.width || c.size.height !== DEFAULT_CONFIG.size.height)) {
      // The config does not record whether --size was given; a size other than the default was.
      log.warn({ size: `${c.size.width}x${c.size.height}` }, '--size is ignored for file sources: a file plays at its own size');
    }
    return new Camera(c, { logger, metrics, make, first, onSourceEnded: opts.onSourceEnded });
  });
  const cameras = new CameraRegistry(cameraList);
  const named = Boolean(config.cameras && config.cameras.length > 0);
  const hub = cameras.default.hub;
  const spec = hub.info().spec;
  const tls = await loadTlsMaterial(config, logger);
  // One budget for the lines peers cause, on the TCP and HTTP sides alike.
  const logLimiter = new LogLimiter(opts.logLimits);
  const access = new AccessControl(config.token, logger, opts.accessTuning, Date.now, logLimiter);
  if (config.token !== null && config.token.length < SHORT_TOKEN_LENGTH) {
    logger.warn({ length: config.token.length }, `the token is short: use at least ${SHORT_TOKEN_LENGTH} random characters`);
  }
  const tlsPems = tls ? { key: tls.key, cert: tls.cert } : null;

  const registry = createClientRegistry(metrics);
  // Started before the servers listen: a recording runs whether or not anyone watches.
  const features = new Map<string, RunningFeatures>();
  const bus = new EventBus();
  const services: RunningService[] = [];
  let feeding: Subscription | undefined;
  const stopFeatures = async () => {
    // The features first (a detector's last `end` still reaches the services), then the services.
    await Promise.all([...features.values()].map((f) => f.close()));
    feeding?.unsubscribe();
    for (const s of services.splice(0).reverse()) await s.close();
    bus.close();
  };
  try {
    for (const [i, camera] of cameraList.entries()) {
      features.set(camera.name, await startCameraFeatures(camera, configs[i]!, ffmpeg, opts.features, givenSource(configs[i]!, i) ? undefined : configs[i]!.source));
    }
    const producers = Object.fromEntries([...features].flatMap(([name, f]) => (f.events$ ? [[name, f.events$]] : [])));
    for (const listed of SERVICES) {
      // Each with its own block: the list's union of configs is one config per service here.
      const service: AnyServerService = listed;
      if (service.switchedBy !== undefined && !config[service.switchedBy]) continue;
      const block: unknown = config[listed.key] ?? service.schema.parse({});
      services.push(await service.start({ cameras: cameraList, eventCameras: Object.keys(producers), bus, clipWriter: (name) => features.get(name)?.writeClip, logger, serverName: config.name, version: VERSION, pageUrl: config.http ? pageUrl(config.host, config.httpPort, tls !== null) : undefined }, block));
    }
    // Fed once the services read the bus, so none misses a first event.
    feeding = bus.feed(producers, logger.child({ component: 'events' }));
  } catch (err) {
    await stopFeatures();
    await cameras.close();
    throw err;
  }
  let servedFeatures: ServedFeatures;
  try {
    servedFeatures = await serveFeatures(features, { registry, access, logger, maxClients: config.maxClients });
  } catch (err) {
    await stopFeatures();
    await cameras.close();
    throw err;
  }
  for (const series of servedFeatures.series) metrics.observe(series);
  // The HTTP side as WELCOME announces it: known from the configuration, or (port 0) once it listens.
  const httpScheme = tls ? 'https' : 'http';
  let announcedHttp: WelcomeHttp | undefined = config.http && config.httpPort !== 0 ? { port: config.httpPort, scheme: httpScheme, path: '/' } : undefined;
  const served = (c: Camera): ServedCamera => ({ name: c.name, hub: c.hub, sourceLoss$: c.hub.sourceLoss$ });
  const tcpOptions = (port: number, choice: CameraChoice, log: Logger): TcpServerOptions => ({
    cameras: choice,
    registry,
    logger: log,
    host: config.host,
    port,
    maxClients: config.maxClients,
    maxPerAddress: config.maxPerAddress,
    helloTimeoutMs: config.helloTimeout * 1000,
    maxPending: config.maxPending,
    idleTimeoutMs: config.idleTimeout * 1000,
    statsIntervalMs: opts.statsIntervalMs,
    access,
    logLimiter,
    allowLegacy: config.allowLegacy,
    tls: tlsPems,
    limits: opts.tcpLimits,
    events: (camera) => bus.eventsOf(camera ?? cameras.default.name),
    welcome: (camera) => {
      const info = camera.hub.info();
      return {
        server: SERVER_NAME,
        version: VERSION,
        width: info.width,
        height: info.height,
        fps: info.fpsConfigured,
        authRequired: access.required,
        // Without a cameras: map the one camera goes unnamed, as before cameras had names.
        ...(named ? { camera: camera.name, cameras: choice.names() } : {}),
        // Only while there is a failure to report; a client shows it instead of waiting in silence.
        ...(info.lastError !== null ? { source: { state: info.state, error: clipReason(info.lastError) } } : {}),
        // So that a client needs only this address to find the HTTP side (recordings, events, the page).
        ...(announcedHttp !== undefined ? { http: announcedHttp } : {}),
      };
    },
  });
  const everyCamera: CameraChoice = {
    pick: (name) => {
      const c = name === undefined ? cameras.default : cameras.get(name);
      return c && served(c);
    },
    names: () => cameras.names(),
  };
  const tcp = new EdgeTcpServer(tcpOptions(config.port, everyCamera, logger));
  // A camera's own port serves it alone: legacy clients there cannot name a camera.
  const ownPorts = cameraList
    .filter((c) => c.legacyPort !== null)
    .map((c) => {
      const only: CameraChoice = { pick: (name) => (name === undefined || name === c.name ? served(c) : undefined), names: () => [c.name] };
      return { camera: c, server: new EdgeTcpServer(tcpOptions(c.legacyPort ?? 0, only, c.logger)) };
    });
  let http: EdgeHttpServer | null = null;
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info('shutting down');
      await Promise.all([tcp.close(), ...ownPorts.map((p) => p.server.close()), http?.close(), servedFeatures.close()]);
      await stopFeatures();
      await cameras.close();
      logLimiter.flush();
      logger.info('stopped');
    })();
    return closing;
  };

  try {
    const tcpPort = await tcp.listen();
    const legacyPorts: Record<string, number> = {};
    for (const p of ownPorts) legacyPorts[p.camera.name] = await p.server.listen();
    let httpPort: number | null = null;
    if (config.http) {
      http = createHttpServer({
        hub,
        cameras,
        registry,
        metrics,
        logger,
        serverName: SERVER_NAME,
        version: VERSION,
        access,
        logLimiter,
        rateLimiter:
          config.httpRateLimit > 0 ? new HostRateLimiter({ ratePerSecond: config.httpRateLimit, burst: Math.max(2, 2 * config.httpRateLimit) }) : null,
        maxClients: config.maxClients,
        maxPerAddress: config.maxPerAddress,
        allowedHosts: config.allowedHosts,
        tls: tlsPems,
        limits: opts.httpLimits,
        routes: [...servedFeatures.routes, ...services.flatMap((s) => s.routes)],
        pageParts: (withToken) => servedFeatures.pageParts(withToken),
        cameraStatus: (name) => features.get(name)?.status() ?? {},
        onClose: () => services.forEach((s) => s.endStreams?.()),
      });
      httpPort = await listen(http.server, config.httpPort, config.host);
      announcedHttp = { port: httpPort, scheme: httpScheme, path: '/' };
    }
    for (const s of services) s.listening?.({ host: config.host, tcpPort, httpPort, tls: tls !== null });
    logger.info(
      {
        tcp: `${tls ? 'tls' : 'tcp'}://${config.host}:${tcpPort}`,
        http: httpPort === null ? null : `${tls ? 'https' : 'http'}://${config.host}:${httpPort}/`,
        source: spec,
        ...(cameraList.length > 1 ? { cameras: cameras.names() } : {}),
        ...(ownPorts.length > 0 ? { legacyPorts } : {}),
        tlsFingerprint: tls?.fingerprint256,
        tokenRequired: access.required,
      },
      'listening',
    );
    return { tcpPort, httpPort, legacyPorts, ffmpeg, hub, cameras, registry, metrics, tcp, tls, access, features, bus, close };
  } catch (err) {
    await close();
    throw err;
  }
}
