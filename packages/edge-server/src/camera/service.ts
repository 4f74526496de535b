// The server-wide counterpart of a camera feature: a service reads what the cameras produce (the
// event bus) and serves it on (webhooks, MQTT, SSE, mDNS). features.ts lists them; the
// core starts each with its top-level config block and never names one.
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { CameraContext } from '../contracts.js';
import type { Route } from '../http/route.js';
import type { EventBus } from './event-bus.js';

/** The server's on/off options that switch a service (the option table has them; `mdns` is `--no-mdns`). */
export type SwitchOption = 'mdns';

/** What a service starts with: the server's cameras and bus. */
export interface ServiceContext {
  readonly cameras: readonly CameraContext[];
  /** The cameras whose features produce events (a detector). */
  readonly eventCameras: readonly string[];
  readonly bus: EventBus;
  /** How a camera's features write a time range of its recording as a clip, if one can (recording MP4). */
  readonly clipWriter?: (camera: string) => ((fromMs: number, toMs: number, path: string) => Promise<void>) | undefined;
  readonly logger: Logger;
  /** This server's name (`name`: a-z, 0-9, _ and -), which tells it apart from others on a broker. */
  readonly serverName: string;
  readonly version: string;
  /** The server's page as a browser on the LAN opens it; absent without HTTP or on a port chosen at listen (0). */
  readonly pageUrl?: string;
}

/** Where the server listens, once it does (a port of 0 in the configuration is known only then). */
export interface ListeningAt {
  /** The address it listens on (`--host`): 0.0.0.0 or :: for every interface. */
  readonly host: string;
  readonly tcpPort: number;
  /** null with --no-http. */
  readonly httpPort: number | null;
  /** TCP speaks TLS and HTTP is HTTPS. */
  readonly tls: boolean;
}

/** A running service. */
export interface RunningService {
  /** Its HTTP endpoints, served after admission like the features'. */
  readonly routes: readonly Route[];
  /** The servers listen now (called once, after the services started and before the server is returned). */
  listening?(at: ListeningAt): void;
  /** Ends its long responses (streams) when the HTTP server closes. */
  endStreams?(): void;
  close(): Promise<void>;
}

/** One server-wide service: the module its folder exports. */
export interface ServerService<C, K extends string = string> {
  /** Its top-level config block (`events:`); absent, the schema's default applies. */
  readonly key: K;
  readonly schema: z.ZodType<C>;
  /** An on/off option (`--no-mdns`) that, off, keeps the service from starting at all. */
  readonly switchedBy?: SwitchOption;
  /** Starts it; like a feature's start, it loads what it runs here (`await import`), only when its block asks for it. */
  start(ctx: ServiceContext, config: C): Promise<RunningService>;
}

/** A service of any config, as lists hold them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyServerService = ServerService<any>;
