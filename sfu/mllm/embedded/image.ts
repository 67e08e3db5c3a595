/**
 * Resizing a frame region into a model input tensor. PaddleOCR reads pictures with OpenCV, which
 * gives BGR, and its PP-OCR models were trained on BGR input with the mean/std lists applied in that
 * channel order; so we write the planes B, G, R (channel 0 = blue) with `mean[0]`/`std[0]` on blue.
 */
import { MllmError, type VideoFrame } from "../types.ts";
import type { PixelBox } from "./geometry.ts";

export interface Normalisation {
  /** Per output channel (B, G, R), on values scaled to 0..1. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** PaddleOCR's detector normalisation (ImageNet mean/std, as its NormalizeImage op). */
export const DET_NORMALISATION: Normalisation = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** PaddleOCR's recogniser normalisation: (x/255 - 0.5) / 0.5, i.e. -1..1. */
export const REC_NORMALISATION: Normalisation = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

export function checkFrame(frame: VideoFrame): void {
  const { width, height, rgb } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new MllmError("INVALID_INPUT", `frame size ${width}x${height} is not a positive integer size`);
  }
  if (rgb.length !== width * height * 3) {
    throw new MllmError(
      "INVALID_INPUT",
      `frame is ${width}x${height} but holds ${rgb.length} bytes; packed RGB24 needs ${width * height * 3}`,
    );
  }
}

export interface TensorTarget {
  readonly data: Float32Array;
  /** Float offset of this image's first plane in `data` (batch index * 3 * planeWidth * planeHeight). */
  readonly offset: number;
  /** Plane size in the tensor; the resized image sits top-left, the rest stays as it was (padding). */
  readonly planeWidth: number;
  readonly planeHeight: number;
}

/**
 * Bilinear resize of `crop` (frame pixels) to outWidth x outHeight, normalised, into NCHW planes.
 * Sampling follows OpenCV's INTER_LINEAR (half-pixel centres, edge clamp, no antialiasing), so the
 * tensors match what the models saw in PaddleOCR's own pipeline.
 */
export function resizeIntoTensor(
  frame: VideoFrame,
  crop: PixelBox,
  outWidth: number,
  outHeight: number,
  target: TensorTarget,
  norm: Normalisation,
): void {
  const { rgb, width: fw } = frame;
  const cx0 = Math.max(0, Math.floor(crop.x));
  const cy0 = Math.max(0, Math.floor(crop.y));
  const cw = Math.max(1, Math.min(frame.width - cx0, Math.round(crop.width)));
  const ch = Math.max(1, Math.min(frame.height - cy0, Math.round(crop.height)));
  const sx = cw / outWidth;
  const sy = ch / outHeight;
  const plane = target.planeWidth * target.planeHeight;
  // Per channel c (B, G, R): out = (v/255 - mean) / std = v * a + b.
  const a = [0, 0, 0];
  const b = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    a[c] = 1 / (255 * norm.std[c]!);
    b[c] = -norm.mean[c]! / norm.std[c]!;
  }
  const [aB, aG, aR] = a as [number, number, number];
  const [bB, bG, bR] = b as [number, number, number];
  // Column weights are the same for every row: compute them once.
  const xi0 = new Int32Array(outWidth);
  const xi1 = new Int32Array(outWidth);
  const xw = new Float32Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    let fx = (x + 0.5) * sx - 0.5;
    if (fx < 0) fx = 0;
    let i0 = Math.floor(fx);
    if (i0 > cw - 1) i0 = cw - 1;
    const i1 = Math.min(i0 + 1, cw - 1);
    xi0[x] = (cx0 + i0) * 3;
    xi1[x] = (cx0 + i1) * 3;
    xw[x] = Math.min(1, fx - i0);
  }
  const d = target.data;
  for (let y = 0; y < outHeight; y++) {
    let fy = (y + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    let j0 = Math.floor(fy);
    if (j0 > ch - 1) j0 = ch - 1;
    const j1 = Math.min(j0 + 1, ch - 1);
    const wy = Math.min(1, fy - j0);
    const row0 = (cy0 + j0) * fw * 3;
    const row1 = (cy0 + j1) * fw * 3;
    const outRow = target.offset + y * target.planeWidth;
    for (let x = 0; x < outWidth; x++) {
      const wx = xw[x]!;
      const p00 = row0 + xi0[x]!;
      const p01 = row0 + xi1[x]!;
      const p10 = row1 + xi0[x]!;
      const p11 = row1 + xi1[x]!;
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      const r = rgb[p00]! * w00 + rgb[p01]! * w01 + rgb[p10]! * w10 + rgb[p11]! * w11;
      const g = rgb[p00 + 1]! * w00 + rgb[p01 + 1]! * w01 + rgb[p10 + 1]! * w10 + rgb[p11 + 1]! * w11;
      const bl = rgb[p00 + 2]! * w00 + rgb[p01 + 2]! * w01 + rgb[p10 + 2]! * w10 + rgb[p11 + 2]! * w11;
      const o = outRow + x;
      d[o] = bl * aB + bB;
      d[o + plane] = g * aG + bG;
      d[o + 2 * plane] = r * aR + bR;
    }
  }
}
