// Camera events as a server-wide service: `events:` names the outputs (webhooks, MQTT and Home
// Assistant, clips) that read the server's event bus, and /events serves it as SSE.
import type { ServerService } from '../camera/service.js';
import { createEventRoutes } from './events-route.js';
import { eventsConfigSchema, type EventsConfig } from './events-config.js';

export const eventsService: ServerService<EventsConfig, 'events'> = {
  key: 'events',
  schema: eventsConfigSchema.describe('where camera events go besides GET /events and v2 clients: webhooks, mqtt (with Home Assistant discovery), clips'),
  start: async (ctx, config) => {
    const sse = createEventRoutes(ctx.bus);
    // The outputs (and with them the recorder for clips, MQTT) are loaded only when configured.
    if (config.webhooks.length === 0 && !config.mqtt && !config.clips) return { routes: sse.routes, endStreams: () => sse.close(), close: async () => {} };
    const { startEventOutputs } = await import('./event-outputs.js');
    const outputs = startEventOutputs({
      config,
      cameras: ctx.cameras,
      eventBus: ctx.bus,
      eventCameras: ctx.eventCameras,
      clipWriter: ctx.clipWriter,
      logger: ctx.logger,
      serverName: ctx.serverName,
      version: ctx.version,
      pageUrl: ctx.pageUrl,
    });
    return { routes: sse.routes, endStreams: () => sse.close(), close: () => outputs.close() };
  },
};
