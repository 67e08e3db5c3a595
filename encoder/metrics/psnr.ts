/**
 * Region PSNR on luma planes (pure, no Node imports). The mean squared error is summed inside and
 * outside a set of boxes; PSNR over a run of frames is taken from the mean MSE, as ffmpeg's psnr
 * filter does, so one bad frame weighs what it costs.
 */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface RegionError {
  /** Sum of squared errors and pixel count inside the boxes. */
  readonly inSse: number;
  readonly inCount: number;
  readonly outSse: number;
  readonly outCount: number;
}

/** Pixel mask of the boxes (1 inside), clipped to the picture. */
export function boxMask(width: number, height: number, boxes: readonly Box[]): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (const b of boxes) {
    const x0 = Math.max(0, Math.floor(b.x));
    const y0 = Math.max(0, Math.floor(b.y));
    const x1 = Math.min(width, Math.ceil(b.x + b.width));
    const y1 = Math.min(height, Math.ceil(b.y + b.height));
    for (let y = y0; y < y1; y++) mask.fill(1, y * width + x0, y * width + x1);
  }
  return mask;
}

export function regionError(reference: Uint8Array, distorted: Uint8Array, mask: Uint8Array): RegionError {
  let inSse = 0;
  let outSse = 0;
  let inCount = 0;
  const n = mask.length;
  for (let i = 0; i < n; i++) {
    const d = reference[i]! - distorted[i]!;
    if (mask[i]) {
      inSse += d * d;
      inCount++;
    } else {
      outSse += d * d;
    }
  }
  return { inSse, inCount, outSse, outCount: n - inCount };
}

/** PSNR in dB of 8-bit samples from a mean squared error; 100 dB stands for identical. */
export function psnrFromMse(mse: number): number {
  return mse <= 0 ? 100 : 10 * Math.log10((255 * 255) / mse);
}
