// The `snapshot:` block of a camera: a JPEG every so often into dir/CAMERA/, the newest kept.
import { z } from 'zod';
import { duration } from '../config/units.js';

export const snapshotConfigSchema = z.strictObject({
  /** Where the pictures go: dir/CAMERA/20261207T201500Z.jpg. */
  dir: z.string().min(1).describe('directory; each camera saves into dir/NAME/'),
  /** How often; at least a second. */
  every: duration({ min: 1000 }).prefault('1m').describe('how often to save a picture: 10s, 5m, 1h (default 1m)'),
  /** Pictures kept; the oldest go first. */
  keep: z.number().int().min(1).max(1_000_000).default(1000).describe('how many pictures to keep, the oldest deleted first (default 1000)'),
});
export type SnapshotConfig = z.output<typeof snapshotConfigSchema>;
