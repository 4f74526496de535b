// The server announced on the LAN over mDNS/DNS-SD (`_edgecam._tcp` with the TCP port and the
// cameras, `_http._tcp` with the HTTP port and path), so that `edgecam cameras` with no address
// finds it; a goodbye at stop. On by default, as a LAN camera is expected to be found; --no-mdns
// (the `mdns` option) keeps the service from starting.
import type { Announcement } from '@edgecam/discovery';
import type { ServerService } from '../camera/service.js';
import { discoveryConfigSchema, type DiscoveryConfig } from './discovery-config.js';

export const discoveryService: ServerService<DiscoveryConfig, 'discovery'> = {
  key: 'discovery',
  switchedBy: 'mdns',
  schema: discoveryConfigSchema.describe('how the server announces itself on the LAN over mDNS/DNS-SD (on unless mdns: false / --no-mdns)'),
  start: async (ctx, config) => {
    // Loaded only when the server announces itself: multicast-dns and the records.
    const [{ MAX_LABEL_BYTES }, { announceServer }] = await Promise.all([import('@edgecam/discovery'), import('./announce-server.js')]);
    const logger = ctx.logger.child({ component: 'mdns' });
    let running: Announcement | undefined;
    return {
      routes: [],
      listening: (at) => {
        // A server name may have 64 characters (a-z, 0-9, _, -: one byte each), a DNS label 63.
        const name = ctx.serverName.slice(0, MAX_LABEL_BYTES);
        running = announceServer({ name, cameras: ctx.cameras.map((c) => c.name), at, config, logger });
      },
      close: async () => {
        await running?.close();
      },
    };
  },
};
