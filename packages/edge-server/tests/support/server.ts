// Starts a real edgecam-server on 127.0.0.1 with an ephemeral port, on a small test pattern so
// the shared CPU is spared.
import { DEFAULT_CONFIG, type EdgeServerConfig } from '../../src/config/config.js';
import { startEdgeServer, type RunningEdgeServer, type StartOptions } from '../../src/server.js';
import { memoryLogger, type MemoryLogger } from './logger.js';

export interface TestServer extends RunningEdgeServer {
  log: MemoryLogger;
}

export async function startTestServer(
  overrides: Partial<EdgeServerConfig> = {},
  opts: StartOptions = {},
): Promise<TestServer> {
  const log = memoryLogger();
  const config: EdgeServerConfig = {
    ...DEFAULT_CONFIG,
    host: '127.0.0.1',
    port: 0,
    // HTTP only where a test gives httpPort (0: an ephemeral port).
    http: overrides.httpPort !== undefined,
    size: { width: 160, height: 120 },
    fps: 20,
    idleStop: 1,
    ...overrides,
  };
  const running = await startEdgeServer(config, { logger: log.logger, ...opts });
  return Object.assign(running, { log });
}
