// Camera events out of the server: the bus, the config schema and the outputs.
export { EventBus, eventJson, snapshotPath, type BusEvent, type EventBusOptions, type EventJson } from './event-bus.js';
export { eventsConfigSchema, parseDuration, type ClipsConfig, type EventsConfig, type MqttConfig, type WebhookConfig } from './events-config.js';
export { startEventOutputs, type EventOutputs, type EventOutputsOptions } from './event-outputs.js';
export { EventSender, encodeCameraEvent } from './event-sender.js';
