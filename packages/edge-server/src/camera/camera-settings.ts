// What a camera's capture may be changed to while it runs (PUT settings), and within what.
import { z } from 'zod';
import { FPS_RANGE, QUALITY_RANGE, SIZE_RANGE } from '../config/capture-limits.js';

/** What a camera's capture can be changed to while running. */
export interface CameraSettings {
  width: number;
  height: number;
  fps: number;
  quality: number;
}

/** The most a settings change may ask of a camera: its maxSize and maxFps. */
export interface SettingsLimits {
  maxWidth: number;
  maxHeight: number;
  maxFps: number;
}

/** A settings change as PUT /cams/NAME/settings takes it: any of the settings, checked. */
export const SETTINGS_CHANGE_SCHEMA = z.strictObject({
  width: z.number().int().min(SIZE_RANGE.min).max(SIZE_RANGE.max).optional(),
  height: z.number().int().min(SIZE_RANGE.min).max(SIZE_RANGE.max).optional(),
  fps: z.number().min(FPS_RANGE.min).max(FPS_RANGE.max).optional(),
  quality: z.number().int().min(QUALITY_RANGE.min).max(QUALITY_RANGE.max).optional(),
});
export type SettingsChange = z.output<typeof SETTINGS_CHANGE_SCHEMA>;
