import { z } from 'zod';
import type { CommandChar } from './constants.js';

/**
 * zod schemas of the v2 JSON payloads. `z.object` drops unknown fields, so a newer peer may add
 * fields without breaking an older one; missing or mistyped known fields are BAD_PAYLOAD.
 */
export const helloSchema = z.object({
  token: z.string().optional(),
  client: z.string().optional(),
  camera: z.string().optional(),
  events: z.boolean().optional(),
});

/** WELCOME's `source`: a state name (a string, so a newer server may add states) and why it failed. */
export const welcomeSourceSchema = z.object({
  state: z.string().min(1),
  error: z.string().optional(),
});

/**
 * WELCOME's `http`: where the server's HTTP side is, on the host the client reached it by. The
 * scheme is a string (`http`, `https`) so a newer server may add one; a client skips what it cannot use.
 */
export const welcomeHttpSchema = z.object({
  port: z.number().int().min(1).max(65535),
  scheme: z.string().min(1),
  path: z.string().startsWith('/').max(1024),
});

export const welcomeSchema = z.object({
  server: z.string(),
  version: z.string(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  fps: z.number().nonnegative(),
  authRequired: z.boolean(),
  source: welcomeSourceSchema.optional(),
  camera: z.string().optional(),
  cameras: z.array(z.string()).optional(),
  http: welcomeHttpSchema.optional(),
});

/** EVENT: something a camera's detector saw, without its picture (a URL serves that over HTTP). */
export const eventBodySchema = z.object({
  id: z.string().min(1),
  camera: z.string(),
  type: z.string().min(1),
  phase: z.enum(['start', 'update', 'end']),
  startedAt: z.number().int().nonnegative(),
  endedAt: z.number().int().nonnegative().optional(),
  score: z.number().min(0).max(1),
});

export const errorBodySchema = z.object({
  code: z.string().min(1),
  message: z.string(),
});

/** ERROR codes after which the server keeps the connection open (PROTOCOL.md §4). */
const NON_FATAL_ERROR_CODES: ReadonlySet<string> = new Set(['SOURCE_UNAVAILABLE']);

/** Whether a server closes the connection after an ERROR with this code: every code but those documented as non-fatal. */
export function isFatalErrorCode(code: string): boolean {
  return !NON_FATAL_ERROR_CODES.has(code);
}

/** A zod failure as one line: `path: message; path: message`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export type Hello = {
  token?: string;
  client?: string;
  /** Which of the server's cameras to watch; absent means its default camera. */
  camera?: string;
  /** Send EVENT messages (0x85) for this connection's camera; absent or false: never. */
  events?: boolean;
};
/** idle, starting, running, restarting (edgecam-server's states); receivers must accept others. */
export type WelcomeSource = { state: string; error?: string };
/** Where the server's HTTP side is: its port on the same host, `http` or `https`, and the base path (`/`). */
export type WelcomeHttp = { port: number; scheme: string; path: string };
export type Welcome = {
  server: string;
  version: string;
  width: number;
  height: number;
  fps: number;
  authRequired: boolean;
  /** Sent while the capture has a failure to report: its state and why. Older servers never send it. */
  source?: WelcomeSource;
  /** The camera this connection watches. Older servers (one camera) never send it. */
  camera?: string;
  /** Every camera the server has, default first. Older servers never send it. */
  cameras?: string[];
  /** The server's HTTP side, on the host this connection reached. Absent from older servers and from one without HTTP. */
  http?: WelcomeHttp;
};
export type ErrorBody = { code: string; message: string };
/** An EVENT's JSON; `type` is `motion` today (receivers must accept others). Times are wall-clock ms. */
export type EventBody = {
  id: string;
  camera: string;
  type: string;
  phase: 'start' | 'update' | 'end';
  startedAt: number;
  endedAt?: number;
  score: number;
};

export type ClientMessage =
  | { type: 'hello'; hello: Hello }
  | { type: 'command'; command: CommandChar }
  | { type: 'ping'; data: Buffer };

export type ServerMessage =
  | { type: 'welcome'; welcome: Welcome }
  | { type: 'frame'; seq: number; captureTimeUs: number; jpeg: Buffer }
  | { type: 'error'; error: ErrorBody }
  | { type: 'pong'; data: Buffer }
  | { type: 'event'; event: EventBody };
