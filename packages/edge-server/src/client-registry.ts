// Who is connected, over which protocol, and how each client is doing. The TCP and HTTP sides
// both register here, so /status and /metrics see every viewer.
import { nowUs } from '@edgecam/runtime';
import type { ClientHandle, ClientMode, ClientProtocol, ClientRegistry, ClientStats } from './contracts.js';
import type { CameraMetrics, EdgeServerMetrics } from './metrics.js';

// Send times kept per client for its fps: enough for one second at up to this many frames.
const FPS_WINDOW = 256;

class Client implements ClientHandle {
  readonly id: number;
  readonly protocol: ClientProtocol;
  readonly address: string;
  readonly camera: string | undefined;
  private readonly cameraMetrics: CameraMetrics | undefined;
  readonly connectedAt = Date.now();
  mode: ClientMode = 'idle';
  framesSent = 0;
  droppedCount = 0;
  bytesSent = 0;
  private readonly sendTimes = new Float64Array(FPS_WINDOW);
  private closed = false;

  constructor(
    id: number,
    init: { protocol: ClientProtocol; address: string; camera?: string },
    private readonly registry: Registry,
  ) {
    this.id = id;
    this.protocol = init.protocol;
    this.address = init.address;
    this.camera = init.camera;
    this.cameraMetrics = init.camera === undefined ? undefined : registry.metrics?.forCamera(init.camera);
  }

  setMode(mode: ClientMode): void {
    this.mode = mode;
  }

  sent(bytes: number, captureTimeUs: number): void {
    if (this.closed) return;
    const now = performance.now();
    this.sendTimes[this.framesSent % FPS_WINDOW] = now;
    this.framesSent++;
    this.bytesSent += bytes;
    this.registry.metrics?.frameSent(this.protocol, bytes, (nowUs() - captureTimeUs) / 1e6);
    this.cameraMetrics?.frameSent(bytes);
  }

  dropped(count = 1): void {
    if (this.closed || count <= 0) return;
    this.droppedCount += count;
    this.registry.metrics?.framesDropped(this.protocol, count);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.registry.remove(this);
  }

  /** Frames sent within the last second. */
  fps(): number {
    const since = performance.now() - 1000;
    const n = Math.min(this.framesSent, FPS_WINDOW);
    let count = 0;
    for (let i = 0; i < n; i++) if ((this.sendTimes[i] as number) > since) count++;
    return count;
  }

  stats(): ClientStats {
    return {
      id: this.id,
      protocol: this.protocol,
      address: this.address,
      ...(this.camera !== undefined ? { camera: this.camera } : {}),
      mode: this.mode,
      connectedAt: this.connectedAt,
      framesSent: this.framesSent,
      dropped: this.droppedCount,
      bytesSent: this.bytesSent,
      fps: this.fps(),
    };
  }
}

class Registry implements ClientRegistry {
  private nextId = 1;
  private readonly clients = new Map<number, Client>();

  constructor(readonly metrics: EdgeServerMetrics | undefined) {}

  register(init: { protocol: ClientProtocol; address: string; camera?: string }): ClientHandle {
    const client = new Client(this.nextId++, init, this);
    this.clients.set(client.id, client);
    this.metrics?.clientsChanged(init.protocol, this.count(init.protocol));
    return client;
  }

  remove(client: Client): void {
    if (this.clients.delete(client.id)) this.metrics?.clientsChanged(client.protocol, this.count(client.protocol));
  }

  list(): ClientStats[] {
    return [...this.clients.values()].map((c) => c.stats());
  }

  count(protocol?: ClientProtocol): number {
    if (protocol === undefined) return this.clients.size;
    let n = 0;
    for (const c of this.clients.values()) if (c.protocol === protocol) n++;
    return n;
  }
}

/** The one registry of TCP and HTTP clients, feeding /status and the metrics. */
export function createClientRegistry(metrics?: EdgeServerMetrics): ClientRegistry {
  return new Registry(metrics);
}
