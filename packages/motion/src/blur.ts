// A separable box blur with running sums: the cost per pixel does not grow with the radius.

/** Blurs `src` (width x height) into `out` with a (2r+1)² box, clamping at the edges; `tmp` is scratch of the same size. */
export function boxBlur(src: ArrayLike<number>, out: Float32Array, tmp: Float32Array, width: number, height: number, r: number): void {
  if (r === 0) {
    for (let i = 0; i < width * height; i++) out[i] = src[i]!;
    return;
  }
  const span = 2 * r + 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let sum = 0;
    for (let k = -r; k <= r; k++) sum += src[row + Math.min(width - 1, Math.max(0, k))]!;
    for (let x = 0; x < width; x++) {
      tmp[row + x] = sum / span;
      sum += src[row + Math.min(width - 1, x + r + 1)]! - src[row + Math.max(0, x - r)]!;
    }
  }
  for (let x = 0; x < width; x++) {
    let sum = 0;
    for (let k = -r; k <= r; k++) sum += tmp[Math.min(height - 1, Math.max(0, k)) * width + x]!;
    for (let y = 0; y < height; y++) {
      out[y * width + x] = sum / span;
      sum += tmp[Math.min(height - 1, y + r + 1) * width + x]! - tmp[Math.max(0, y - r) * width + x]!;
    }
  }
}
