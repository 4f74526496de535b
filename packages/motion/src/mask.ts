// Masks rasterised once per frame size: a pixel is ignored when its centre lies in any mask.
import type { MotionMask } from './options.js';

function inPolygon(x: number, y: number, poly: ReadonlyArray<readonly [number, number]>): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inMask(x: number, y: number, m: MotionMask): boolean {
  if ('rect' in m) {
    const [l, t, r, b] = m.rect;
    return x >= l && x < r && y >= t && y < b;
  }
  return inPolygon(x, y, m.polygon);
}

/**
 * 1 where a pixel is analysed, 0 where a mask hides it. Masks grow by `grow` pixels: the blur
 * spreads what happens under a mask that far.
 */
export function rasteriseMasks(masks: readonly MotionMask[], width: number, height: number, grow = 0): Uint8Array {
  const active = new Uint8Array(width * height).fill(1);
  if (masks.length === 0) return active;
  for (let y = 0; y < height; y++) {
    const ny = (y + 0.5) / height;
    for (let x = 0; x < width; x++) {
      const nx = (x + 0.5) / width;
      if (masks.some((m) => inMask(nx, ny, m))) active[y * width + x] = 0;
    }
  }
  if (grow === 0) return active;
  const grown = Uint8Array.from(active);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (active[y * width + x] === 1) continue;
      for (let dy = -grow; dy <= grow; dy++) {
        for (let dx = -grow; dx <= grow; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < height && xx >= 0 && xx < width) grown[yy * width + xx] = 0;
        }
      }
    }
  }
  return grown;
}
