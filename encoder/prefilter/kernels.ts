/**
 * Per-plane filter kernels of the pre-filter. Every kernel reads one channel of `src` at
 * `(y * w + x) * step + offset` (step 1 for an I420 plane, 4 for an RGBA channel), takes its
 * per-pixel strength from a field built by `buildField`, and writes the same place of `dst`.
 * A pixel whose strength is 0 is copied as it is, so important blocks come out bit-exact.
 *
 * All box sums come from a summed-area table (Crow, "Summed-area tables for texture mapping",
 * SIGGRAPH 1984): four reads give the sum over any rectangle, so the cost per pixel does not depend
 * on the radius. Reads come only from the table and from the pixel itself, so `dst` may be `src`.
 * Kernels walk the rows run by run (see `buildField`): within a run the integer strength is fixed,
 * so the table rows and box heights are worked out once per run, not once per pixel.
 *
 * Pure TypedArray code (no Node imports): the browser client reuses it.
 */
import { RUN as RUN_INTS, type CellGrid, type Runs } from "./field.ts";

// A module-local copy: some bundlers read an imported binding through a getter on every use.
const RUN = RUN_INTS;

/** One plane or interleaved picture; callers pass byte views so the JIT sees one array kind. */
export type Pixels = Uint8Array;

/**
 * Fills `sat` ((w + 1) x (h + 1)) so that sat[(y + 1) * (w + 1) + x + 1] is the sum of the channel
 * over columns 0..x of rows 0..y. The zero first row and column spare every box lookup a bounds
 * test. Float64 holds exact integer sums up to 2^53, far beyond any frame.
 */
export function buildSat(src: Pixels, w: number, h: number, step: number, offset: number, sat: Float64Array): void {
  const W = w + 1;
  sat.fill(0, 0, W);
  for (let y = 0; y < h; y++) {
    const above = y * W + 1;
    const row = above + W;
    sat[row - 1] = 0;
    let s = y * w * step + offset;
    let acc = 0;
    for (let x = 0; x < w; x++, s += step) {
      acc += src[s]!;
      sat[row + x] = sat[above + x]! + acc;
    }
  }
}

/** Copies one channel of pixels [a, b) (pixel indices); nothing to do when filtering in place. */
function copySpan(src: Pixels, dst: Pixels, a: number, b: number, step: number, offset: number): void {
  if (src === dst) return;
  if (step === 1 && b - a >= 256) {
    dst.set(src.subarray(a, b), a);
    return;
  }
  for (let o = a * step + offset, end = b * step + offset; o < end; o += step) dst[o] = src[o]!;
}

/** Sum over rows [lo/W, hi/W) and columns [x0, x1) of the table; lo and hi are row offsets. */
function boxSum(sat: Float64Array, lo: number, hi: number, x0: number, x1: number): number {
  return sat[hi + x1]! - sat[lo + x1]! - sat[hi + x0]! + sat[lo + x0]!;
}

/**
 * Variable-radius box blur. `radius` holds a real radius per pixel; a fractional radius blends the
 * boxes of floor(r) and floor(r) + 1 (radius 0 being the pixel itself), so the blur grows smoothly
 * along the field instead of in one-pixel steps. Boxes are clipped at the picture border and
 * divided by their clipped area, so edges neither darken nor brighten.
 */
export function blurPlane(
  src: Pixels, dst: Pixels, w: number, h: number, step: number, offset: number,
  radius: Float32Array, runs: Runs, sat: Float64Array,
): void {
  const W = w + 1;
  const { rowStart, data } = runs;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let k = rowStart[y]!, kEnd = rowStart[y + 1]!; k < kEnd; k++) {
      const s = data[RUN * k]!;
      const e = data[RUN * k + 1]!;
      const r0 = data[RUN * k + 2]!;
      if (r0 < 0) {
        copySpan(src, dst, row + s, row + e, step, offset);
        continue;
      }
      const r1 = r0 + 1;
      const ya0 = y > r0 ? y - r0 : 0;
      const yb0 = y + r0 + 1 < h ? y + r0 + 1 : h;
      const ya1 = y > r1 ? y - r1 : 0;
      const yb1 = y + r1 + 1 < h ? y + r1 + 1 : h;
      const lo0 = ya0 * W, hi0 = yb0 * W, lo1 = ya1 * W, hi1 = yb1 * W;
      // Pixels whose larger box fits horizontally need no clipping and have one area per box;
      // the few near the left and right edges take the general path.
      const is = Math.min(e, Math.max(s, r1));
      const ie = Math.max(is, Math.min(e, w - r1));
      for (let x = s; x < is; x++) blurEdgePixel(src, dst, w, step, offset, radius, sat, row, x, r0, lo0, hi0, yb0 - ya0, lo1, hi1, yb1 - ya1);
      const inv0 = 1 / ((yb0 - ya0) * (2 * r0 + 1));
      const inv1 = 1 / ((yb1 - ya1) * (2 * r1 + 1));
      const whole = data[RUN * k + 3] === 0;
      // Three loops without per-pixel branches: radius 0 to 1, whole radii (inside a uniform
      // background), and fractional radii (the ramps).
      if (r0 === 0) {
        for (let x = is, i = row + is, o = i * step + offset; x < ie; x++, i++, o += step) {
          const v = src[o]!;
          const b = boxSum(sat, lo1, hi1, x - 1, x + 2) * inv1;
          dst[o] = (v + (b - v) * radius[i]! + 0.5) | 0;
        }
      } else if (whole) {
        for (let x = is, o = (row + is) * step + offset; x < ie; x++, o += step) {
          dst[o] = (boxSum(sat, lo0, hi0, x - r0, x + r1) * inv0 + 0.5) | 0;
        }
      } else {
        for (let x = is, i = row + is, o = i * step + offset; x < ie; x++, i++, o += step) {
          const v = boxSum(sat, lo0, hi0, x - r0, x + r1) * inv0;
          const b = boxSum(sat, lo1, hi1, x - r1, x + r1 + 1) * inv1;
          dst[o] = (v + (b - v) * (radius[i]! - r0) + 0.5) | 0;
        }
      }
      for (let x = ie; x < e; x++) blurEdgePixel(src, dst, w, step, offset, radius, sat, row, x, r0, lo0, hi0, yb0 - ya0, lo1, hi1, yb1 - ya1);
    }
  }
}

/** One blurred pixel near the left or right edge: boxes clipped to the picture. */
function blurEdgePixel(
  src: Pixels, dst: Pixels, w: number, step: number, offset: number, radius: Float32Array,
  sat: Float64Array, row: number, x: number, r0: number,
  lo0: number, hi0: number, h0: number, lo1: number, hi1: number, h1: number,
): void {
  const o = (row + x) * step + offset;
  const f = radius[row + x]! - r0;
  let v: number;
  if (r0 === 0) v = src[o]!;
  else {
    const xa = x > r0 ? x - r0 : 0;
    const xb = x + r0 + 1 < w ? x + r0 + 1 : w;
    v = boxSum(sat, lo0, hi0, xa, xb) / ((xb - xa) * h0);
  }
  if (f > 0) {
    const r1 = r0 + 1;
    const xa = x > r1 ? x - r1 : 0;
    const xb = x + r1 + 1 < w ? x + r1 + 1 : w;
    v += (boxSum(sat, lo1, hi1, xa, xb) / ((xb - xa) * h1) - v) * f;
  }
  dst[o] = (v + 0.5) | 0;
}

/**
 * Pixelation. `level` holds the cell level per pixel: level L means cells of side 2^L (0 = the
 * pixel itself), a fractional level a blend of the cells of floor(L) and floor(L) + 1. Cells sit on a
 * fixed power-of-two grid, like the levels of a mipmap (Williams, "Pyramidal parametrics", SIGGRAPH
 * 1983), so they line up with the 4/8/16-pixel transform blocks of video codecs and a flat cell
 * costs the encoder next to nothing. Blending neighbouring levels keeps the change from sharp to
 * coarse smooth. Each cell's mean is computed once per row.
 */
export function downsamplePlane(
  src: Pixels, dst: Pixels, w: number, h: number, step: number, offset: number,
  level: Float32Array, runs: Runs, sat: Float64Array,
): void {
  const W = w + 1;
  const { rowStart, data } = runs;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let k = rowStart[y]!, kEnd = rowStart[y + 1]!; k < kEnd; k++) {
      const s = data[RUN * k]!;
      const e = data[RUN * k + 1]!;
      const l0 = data[RUN * k + 2]!;
      if (l0 < 0) {
        copySpan(src, dst, row + s, row + e, step, offset);
        continue;
      }
      const l1 = l0 + 1;
      const n0 = 1 << l0;
      const n1 = 1 << l1;
      const ya0 = (y >> l0) << l0;
      const yb0 = ya0 + n0 < h ? ya0 + n0 : h;
      const ya1 = (y >> l1) << l1;
      const yb1 = ya1 + n1 < h ? ya1 + n1 : h;
      const lo0 = ya0 * W, hi0 = yb0 * W, lo1 = ya1 * W, hi1 = yb1 * W;
      let cell0 = -1, mean0 = 0, cell1 = -1, mean1 = 0;
      for (let x = s; x < e; x++) {
        const i = row + x;
        const o = i * step + offset;
        const f = level[i]! - l0;
        let v: number;
        if (l0 === 0) v = src[o]!;
        else {
          const xa = (x >> l0) << l0;
          if (xa !== cell0) {
            const xb = xa + n0 < w ? xa + n0 : w;
            cell0 = xa;
            mean0 = boxSum(sat, lo0, hi0, xa, xb) / ((xb - xa) * (yb0 - ya0));
          }
          v = mean0;
        }
        if (f > 0) {
          const xa = (x >> l1) << l1;
          if (xa !== cell1) {
            const xb = xa + n1 < w ? xa + n1 : w;
            cell1 = xa;
            mean1 = boxSum(sat, lo1, hi1, xa, xb) / ((xb - xa) * (yb1 - ya1));
          }
          v += (mean1 - v) * f;
        }
        dst[o] = (v + 0.5) | 0;
      }
    }
  }
}

/**
 * Flattening. Each cell of `grid` is reduced to its mean; the means are interpolated bilinearly
 * between cell centres into a smooth surface (a constant per cell would draw a grid of edges), and
 * each pixel moves towards that surface by `alpha` in [0, 1]: alpha 1 replaces it, 0 keeps it.
 * `means`, `rowBuf` and `surface` are scratch space of grid.cols * grid.rows, grid.cols and w values.
 */
export function flattenPlane(
  src: Pixels, dst: Pixels, w: number, h: number, step: number, offset: number,
  alpha: Float32Array, runs: Runs, grid: CellGrid, means: Float32Array, rowBuf: Float32Array, surface: Float32Array,
): void {
  const { cell, cols, rows } = grid;
  // Cell means by direct sums: one pass, cheaper here than a summed-area table.
  means.fill(0);
  for (let y = 0; y < h; y++) {
    const base = ((y / cell) | 0) * cols;
    let o = y * w * step + offset;
    for (let cx = 0; cx < cols; cx++) {
      const end = Math.min((cx + 1) * cell, w);
      let acc = 0;
      for (let x = cx * cell; x < end; x++, o += step) acc += src[o]!;
      means[base + cx] = means[base + cx]! + acc;
    }
  }
  for (let cy = 0; cy < rows; cy++) {
    const ch = Math.min((cy + 1) * cell, h) - cy * cell;
    for (let cx = 0; cx < cols; cx++) {
      const i = cy * cols + cx;
      means[i] = means[i]! / (ch * (Math.min((cx + 1) * cell, w) - cx * cell));
    }
  }
  const { y0: gy, fy, centres } = grid;
  const { rowStart, data } = runs;
  for (let y = 0; y < h; y++) {
    // The surface along this row: interpolate the cell means vertically, then walk the row from
    // one cell centre to the next, adding a constant step per pixel.
    const r0 = gy[y]!;
    const r1 = r0 + 1 < rows ? r0 + 1 : r0;
    const t = fy[y]!;
    for (let c = 0; c < cols; c++) {
      const m = means[r0 * cols + c]!;
      rowBuf[c] = m + (means[r1 * cols + c]! - m) * t;
    }
    let x = 0;
    for (let c = 0; c <= cols; c++) {
      // Pixels up to the centre of cell c (clamped before the first and after the last centre).
      const end = c < cols ? Math.min(w, Math.ceil(centres[c]! - 0.5)) : w;
      if (c === 0 || c === cols) {
        const m = rowBuf[c === 0 ? 0 : cols - 1]!;
        for (; x < end; x++) surface[x] = m;
        continue;
      }
      const a = rowBuf[c - 1]!;
      const slope = (rowBuf[c]! - a) / (centres[c]! - centres[c - 1]!);
      for (; x < end; x++) surface[x] = a + (x + 0.5 - centres[c - 1]!) * slope;
    }
    const row = y * w;
    for (let k = rowStart[y]!, kEnd = rowStart[y + 1]!; k < kEnd; k++) {
      const s = data[RUN * k]!;
      const e = data[RUN * k + 1]!;
      if (data[RUN * k + 2]! < 0) {
        copySpan(src, dst, row + s, row + e, step, offset);
        continue;
      }
      for (let x = s, i = row + s, o = i * step + offset; x < e; x++, i++, o += step) {
        const p = src[o]!;
        dst[o] = (p + (surface[x]! - p) * alpha[i]! + 0.5) | 0;
      }
    }
  }
}
