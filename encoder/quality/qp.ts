/**
 * From importance to quantiser offsets, Artic's way (Artic, released code):
 *   offset = clamp(round(scale * (1 - w) - bias), min, max)      scale 51, bias 26, range [0, 25]
 * where w is the block's importance weight (already raised to gamma by the map builder, see
 * `mapFromRegions`). With the defaults a block with w >= 0.5 keeps the frame's quantiser and the
 * offset climbs to +25 as w falls to 0. Artic uses +18 everywhere when the chat names no region;
 * note that a uniform offset changes nothing under a bitrate-targeting rate control (it only
 * shifts where the rate control lands), so it matters only in constant-QP modes.
 *
 * Pure: no Node imports.
 */
import { EncoderError } from "../errors.ts";
import type { ImportanceMap } from "../importance/map.ts";

export interface QpOffsetOptions {
  readonly scale?: number;
  readonly bias?: number;
  readonly minOffset?: number;
  readonly maxOffset?: number;
}

/** Artic's offset when no region is known. */
export const ARTIC_NO_REGION_OFFSET = 18;

export interface QpOffsetMap {
  readonly cols: number;
  readonly rows: number;
  readonly blockSize: number;
  readonly width: number;
  readonly height: number;
  /** Row-major offsets in QP units (H.264 scale, 0..51), positive = coarser. */
  readonly offsets: Float32Array;
}

export function qpOffsetFor(weight: number, options: QpOffsetOptions = {}): number {
  const { scale = 51, bias = 26, minOffset = 0, maxOffset = 25 } = options;
  const v = Math.round(scale * (1 - weight) - bias);
  // `+ 0` turns a -0 from Math.round into 0, so results compare cleanly.
  return Math.min(maxOffset, Math.max(minOffset, v)) + 0;
}

export function qpOffsetMap(map: ImportanceMap, options: QpOffsetOptions = {}): QpOffsetMap {
  const { minOffset = 0, maxOffset = 25 } = options;
  if (!(maxOffset >= minOffset)) {
    throw new EncoderError("INVALID_OPTION", `maxOffset (${maxOffset}) must be >= minOffset (${minOffset})`);
  }
  const offsets = new Float32Array(map.weights.length);
  for (let i = 0; i < offsets.length; i++) offsets[i] = qpOffsetFor(map.weights[i]!, options);
  return { cols: map.cols, rows: map.rows, blockSize: map.blockSize, width: map.width, height: map.height, offsets };
}

/** An offset map with the same value everywhere (for example Artic's +18 when no region is known). */
export function uniformOffsetMap(map: ImportanceMap, offset: number): QpOffsetMap {
  return {
    cols: map.cols,
    rows: map.rows,
    blockSize: map.blockSize,
    width: map.width,
    height: map.height,
    offsets: new Float32Array(map.weights.length).fill(offset),
  };
}

/**
 * Offsets relative to the coarsest block (all <= 0): the region negative, the background 0.
 * x264 clips every macroblock at QP 51 and its bitrate control cannot win back bits lost to the
 * clip: with +25 on the background a 200 kbps encode landed at 153 kbps; the same map as -25 on
 * the region landed on target (encoder/README.md, "Sign of the offsets").
 */
export function relativeToBackground(m: QpOffsetMap): QpOffsetMap {
  let max = -Infinity;
  for (const v of m.offsets) max = Math.max(max, v);
  return { ...m, offsets: m.offsets.map((v) => v - max) };
}
