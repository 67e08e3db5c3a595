/**
 * Importance maps: a grid of blocks over a picture, each with a weight in [0, 1] that says how much
 * the conversation cares about that part of the picture. 1 = the region being asked about,
 * 0 = nothing anybody will look at.
 *
 * This module is pure (no Node imports): the browser client reuses it.
 */
import { EncoderError } from "../errors.ts";

export interface ImportanceMap {
  /** Picture width in pixels that the map covers. */
  readonly width: number;
  /** Picture height in pixels that the map covers. */
  readonly height: number;
  /** Side of a square block in pixels (16 = one H.264 macroblock, 64 = Artic's grid). */
  readonly blockSize: number;
  /** Blocks per row: ceil(width / blockSize). The last column may be partial. */
  readonly cols: number;
  /** Block rows: ceil(height / blockSize). The last row may be partial. */
  readonly rows: number;
  /** Row-major weights, `cols * rows` values in [0, 1]. */
  readonly weights: Float32Array;
}

/** An axis-aligned box in picture pixels, with an optional weight in [0, 1] (default 1). */
export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly weight?: number;
}

export function gridSize(width: number, height: number, blockSize: number): { cols: number; rows: number } {
  return { cols: Math.ceil(width / blockSize), rows: Math.ceil(height / blockSize) };
}

function checkPicture(width: number, height: number, blockSize: number): void {
  for (const [name, v] of [["width", width], ["height", height], ["blockSize", blockSize]] as const) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new EncoderError("INVALID_MAP", `importance map ${name} must be a positive integer, got ${v}`);
    }
  }
}

/** A map with the same weight everywhere. */
export function uniformMap(width: number, height: number, blockSize: number, weight = 0): ImportanceMap {
  checkPicture(width, height, blockSize);
  const { cols, rows } = gridSize(width, height, blockSize);
  return { width, height, blockSize, cols, rows, weights: new Float32Array(cols * rows).fill(clamp01(weight)) };
}

/** Wraps given weights as a map after checking their count and range. */
export function mapFromWeights(
  width: number,
  height: number,
  blockSize: number,
  weights: ArrayLike<number>,
): ImportanceMap {
  checkPicture(width, height, blockSize);
  const { cols, rows } = gridSize(width, height, blockSize);
  if (weights.length !== cols * rows) {
    throw new EncoderError(
      "MAP_SIZE_MISMATCH",
      `importance map for ${width}x${height} with ${blockSize}px blocks needs ${cols}x${rows}=${cols * rows} weights, got ${weights.length}`,
    );
  }
  const w = new Float32Array(cols * rows);
  for (let i = 0; i < w.length; i++) {
    const v = weights[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new EncoderError("INVALID_MAP", `importance weight ${i} (col ${i % cols}, row ${Math.floor(i / cols)}) must be in [0, 1], got ${v}`);
    }
    w[i] = v;
  }
  return { width, height, blockSize, cols, rows, weights: w };
}

export interface FalloffOptions {
  /**
   * Distance in pixels at which a block's response reaches 0. Artic's released code scales it with
   * the picture; the default here is an eighth of the picture's longer side, which the encoder
   * benchmark found better than a quarter at every rung (more region PSNR, bitrate nearer target:
   * see encoder/README.md).
   */
  readonly dMaxPx?: number;
  /** Exponent applied to the response (Artic: 2). Larger values make the fall-off steeper. */
  readonly gamma?: number;
}

/**
 * Builds a map from weighted boxes with Artic's distance fall-off (Artic, released code: 64x64
 * blocks; resp = 1 inside the region, else clamp(1 - d / dMax, 0, 1), d the distance from the block
 * centre to the region): weight = regionWeight * resp^gamma. Overlapping regions merge by maximum.
 * With no regions every weight is 0.
 */
export function mapFromRegions(
  width: number,
  height: number,
  blockSize: number,
  regions: readonly Region[],
  options: FalloffOptions = {},
): ImportanceMap {
  const map = uniformMap(width, height, blockSize, 0);
  const dMax = options.dMaxPx ?? Math.max(width, height) / 8;
  const gamma = options.gamma ?? 2;
  if (!(dMax > 0)) throw new EncoderError("INVALID_MAP", `dMaxPx must be > 0, got ${dMax}`);
  if (!(gamma > 0)) throw new EncoderError("INVALID_MAP", `gamma must be > 0, got ${gamma}`);
  for (const [i, r] of regions.entries()) {
    if (![r.x, r.y, r.width, r.height].every(Number.isFinite) || r.width <= 0 || r.height <= 0) {
      throw new EncoderError("INVALID_MAP", `region ${i} must have finite x, y and positive width, height; got ${JSON.stringify(r)}`);
    }
    const rw = r.weight ?? 1;
    if (!(rw >= 0 && rw <= 1)) throw new EncoderError("INVALID_MAP", `region ${i} weight must be in [0, 1], got ${rw}`);
  }
  const { cols, rows, weights } = map;
  for (let by = 0; by < rows; by++) {
    // Centre of the block, clipped to the picture for partial edge blocks.
    const y0 = by * blockSize;
    const cy = (y0 + Math.min(y0 + blockSize, height)) / 2;
    for (let bx = 0; bx < cols; bx++) {
      const x0 = bx * blockSize;
      const cx = (x0 + Math.min(x0 + blockSize, width)) / 2;
      let best = 0;
      for (const r of regions) {
        const dx = Math.max(r.x - cx, 0, cx - (r.x + r.width));
        const dy = Math.max(r.y - cy, 0, cy - (r.y + r.height));
        // A block that overlaps the region counts as inside, even when its centre is not.
        const overlaps = x0 < r.x + r.width && x0 + blockSize > r.x && y0 < r.y + r.height && y0 + blockSize > r.y;
        const d = overlaps ? 0 : Math.hypot(dx, dy);
        const resp = clamp01(1 - d / dMax);
        best = Math.max(best, (r.weight ?? 1) * resp ** gamma);
      }
      weights[by * cols + bx] = best;
    }
  }
  return map;
}

/** Merges maps of the same grid: by maximum (default), or by a weighted sum clamped to 1. */
export function mergeMaps(
  maps: readonly ImportanceMap[],
  mode: "max" | "sum" = "max",
  factors?: readonly number[],
): ImportanceMap {
  const first = maps[0];
  if (!first) throw new EncoderError("INVALID_MAP", "mergeMaps needs at least one map");
  for (const m of maps) assertSameGrid(first, m);
  const out = new Float32Array(first.weights.length);
  maps.forEach((m, k) => {
    const f = factors?.[k] ?? 1;
    for (let i = 0; i < out.length; i++) {
      const v = f * m.weights[i]!;
      out[i] = mode === "max" ? Math.max(out[i]!, v) : out[i]! + v;
    }
  });
  for (let i = 0; i < out.length; i++) out[i] = clamp01(out[i]!);
  return { ...first, weights: out };
}

export function assertSameGrid(a: ImportanceMap, b: ImportanceMap): void {
  if (a.width !== b.width || a.height !== b.height || a.blockSize !== b.blockSize) {
    throw new EncoderError(
      "MAP_SIZE_MISMATCH",
      `importance maps differ: ${a.width}x${a.height}/${a.blockSize}px against ${b.width}x${b.height}/${b.blockSize}px`,
    );
  }
}

/** Checks that a map fits a picture of the given size, with a clear error when it does not. */
export function assertMapFits(map: ImportanceMap, width: number, height: number): void {
  const { cols, rows } = gridSize(width, height, map.blockSize);
  if (map.cols !== cols || map.rows !== rows || map.weights.length !== cols * rows) {
    throw new EncoderError(
      "MAP_SIZE_MISMATCH",
      `importance map is ${map.cols}x${map.rows} blocks (${map.width}x${map.height}, ${map.blockSize}px) but a ${width}x${height} picture needs ${cols}x${rows}`,
    );
  }
}

/** Weight of the block that holds pixel (x, y). */
export function weightAt(map: ImportanceMap, x: number, y: number): number {
  const bx = Math.min(map.cols - 1, Math.max(0, Math.floor(x / map.blockSize)));
  const by = Math.min(map.rows - 1, Math.max(0, Math.floor(y / map.blockSize)));
  return map.weights[by * map.cols + bx]!;
}

/**
 * Resamples a map to another picture size or block size. Each new block takes the largest weight of
 * the old blocks it overlaps, so that a small important region is never lost when blocks grow. The
 * context engine computes maps at analysis resolution; encoders need them at their own.
 */
export function resampleMap(map: ImportanceMap, width: number, height: number, blockSize = map.blockSize): ImportanceMap {
  const out = uniformMap(width, height, blockSize, 0);
  const sx = map.width / width;
  const sy = map.height / height;
  for (let by = 0; by < out.rows; by++) {
    const y0 = (by * blockSize) * sy;
    const y1 = Math.min((by + 1) * blockSize, height) * sy;
    const r0 = Math.max(0, Math.floor(y0 / map.blockSize));
    const r1 = Math.min(map.rows - 1, Math.ceil(y1 / map.blockSize) - 1);
    for (let bx = 0; bx < out.cols; bx++) {
      const x0 = (bx * blockSize) * sx;
      const x1 = Math.min((bx + 1) * blockSize, width) * sx;
      const c0 = Math.max(0, Math.floor(x0 / map.blockSize));
      const c1 = Math.min(map.cols - 1, Math.ceil(x1 / map.blockSize) - 1);
      let best = 0;
      for (let r = r0; r <= r1; r++) {
        for (let c = c0; c <= c1; c++) best = Math.max(best, map.weights[r * map.cols + c]!);
      }
      out.weights[by * out.cols + bx] = best;
    }
  }
  return out;
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
