// The server announced on the LAN over mDNS/DNS-SD (`_edgecam._tcp` with the TCP port and the
// cameras, `_http._tcp` with the HTTP port and path), so that `edgecam cameras` with no address
// finds it; a goodbye at stop. On by default, as a LAN camera is expected to be found; --no-mdns
// (the `mdns` option) keeps the service from starting.
import type { Announcement } from '@edgecam/discovery';
import type { ServerService } from '../camera/service.js';
import { announceServer } from './announce-server.js';
import { discoveryConfigSchema, type DiscoveryConfig } from './discovery-config.js';

export const discoveryService: ServerService<DiscoveryConfig, 'discovery'> = {
  key: 'discovery',
  switchedBy: 'mdns',
  schema: discoveryConfigSchema.describe('how the server announces itself on the LAN over mDNS/DNS-SD (on unless mdns: false / --no-mdns)'),
  start: (ctx, config) => {
    const logger = ctx.logger.child({ component: 'mdns' });
    let running: Announcement | undefined;
    return {
      routes: [],
      listening: (at) => {
        running = announceServer({ name: ctx.serverName, cameras: ctx.cameras.map((c) => c.name), at, config, logger });
      },
      close: async () => {
        await running?.close();
      },
    };
  },
};
