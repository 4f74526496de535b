// The whole edgecam-server (real FrameHub over an ffmpeg testsrc capture, real client registry
// and Prometheus metrics) with its HTTP side on an ephemeral loopback port, at a small size so
// the shared CPU is spared.
import { DEFAULT_CONFIG, type ServerConfig } from '../../src/config/config.js';
import { startEdgeServer, type RunningEdgeServer } from '../../src/server.js';
import { testLogger } from './harness.js';

export interface RealHttpServer extends RunningEdgeServer {
  url: string;
  httpPort: number;
  config: ServerConfig;
}

export async function startRealServer(overrides: Partial<ServerConfig> = {}): Promise<RealHttpServer> {
  const config: ServerConfig = {
    ...DEFAULT_CONFIG,
    host: '127.0.0.1',
    port: 0,
    httpPort: 0,
    size: { width: 320, height: 240 },
    fps: 20,
    idleStop: 1,
    ...overrides,
  };
  const running = await startEdgeServer(config, { logger: testLogger, statsIntervalMs: 0 });
  if (running.httpPort === null) throw new Error('the server did not start its HTTP side');
  return Object.assign(running, { url: `http://127.0.0.1:${running.httpPort}`, httpPort: running.httpPort, config });
}
