import { z } from 'zod';
import type { CommandChar } from './constants.js';

/**
 * zod schemas of the v2 JSON payloads. `z.object` drops unknown fields, so a newer peer may add
 * fields without breaking an older one; missing or mistyped known fields are BAD_PAYLOAD.
 */
export const helloSchema = z.object({
  token: z.string().optional(),
  client: z.string().optional(),
});

export const welcomeSchema = z.object({
  server: z.string(),
  version: z.string(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  fps: z.number().nonnegative(),
  authRequired: z.boolean(),
});

export const errorBodySchema = z.object({
  code: z.string().min(1),
  message: z.string(),
});

/** A zod failure as one line: `path: message; path: message`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export type Hello = { token?: string; client?: string };
export type Welcome = {
  server: string;
  version: string;
  width: number;
  height: number;
  fps: number;
  authRequired: boolean;
};
export type ErrorBody = { code: string; message: string };

export type ClientMessage =
  | { type: 'hello'; hello: Hello }
  | { type: 'command'; command: CommandChar }
  | { type: 'ping'; data: Buffer };

export type ServerMessage =
  | { type: 'welcome'; welcome: Welcome }
  | { type: 'frame'; seq: number; captureTimeUs: number; jpeg: Buffer }
  | { type: 'error'; error: ErrorBody }
  | { type: 'pong'; data: Buffer };
