/**
 * Strength fields: turn one filter radius per importance block into one value per pixel of a plane,
 * without seams between blocks and without touching any pixel of an important block.
 *
 * Pure TypedArray code (no Node imports): the browser client reuses it.
 */
import type { ImportanceMap } from "../importance/map.ts";

/** Radii at the corners of the map's blocks, in luma pixels. */
export interface CornerGrid {
  /** Luma picture size the grid covers. */
  readonly width: number;
  readonly height: number;
  readonly blockSize: number;
  readonly cols: number;
  readonly rows: number;
  /** (cols + 1) x (rows + 1) corner radii, row-major. */
  readonly corners: Float32Array;
  /** False when every block has radius 0: the frame is then copied untouched. */
  readonly active: boolean;
}

/**
 * Builds the corner grid of a map that fits the picture. Each corner takes the SMALLEST radius of
 * the (up to four) blocks that touch it. Why the minimum rather than interpolating between block
 * centres: a block with radius 0 then has four zero corners and stays exactly 0 inside, so important
 * pixels are copied bit-exact; the ramp from sharp to blurred lies wholly inside the less important
 * block; and no pixel is ever filtered harder than its own block asks.
 */
export function cornerGrid(map: ImportanceMap, radiusOf: (weight: number) => number): CornerGrid {
  const { cols, rows, weights } = map;
  const radii = new Float32Array(cols * rows);
  let active = false;
  for (let i = 0; i < radii.length; i++) {
    const r = radiusOf(weights[i]!);
    radii[i] = r;
    if (r > 0) active = true;
  }
  const corners = new Float32Array((cols + 1) * (rows + 1));
  for (let cy = 0; cy <= rows; cy++) {
    for (let cx = 0; cx <= cols; cx++) {
      let m = Infinity;
      for (let by = cy - 1; by <= cy; by++) {
        if (by < 0 || by >= rows) continue;
        for (let bx = cx - 1; bx <= cx; bx++) {
          if (bx < 0 || bx >= cols) continue;
          m = Math.min(m, radii[by * cols + bx]!);
        }
      }
      corners[cy * (cols + 1) + cx] = m;
    }
  }
  return { width: map.width, height: map.height, blockSize: map.blockSize, cols, rows, corners, active };
}

/**
 * Where each block starts in a plane that is `scale` times the luma size (1 for luma and RGBA,
 * 0.5 for I420 chroma). A plane pixel belongs to the block that holds its centre in luma
 * coordinates, so chroma pixels follow the same blocks as the luma under them.
 */
function blockStarts(n: number, scale: number, blockSize: number, blocks: number): Int32Array {
  const starts = new Int32Array(blocks + 1).fill(n);
  starts[0] = 0;
  let b = 0;
  for (let p = 0; p < n; p++) {
    const owner = Math.min(blocks - 1, Math.floor((p + 0.5) / scale / blockSize));
    while (b < owner) starts[++b] = p;
  }
  return starts;
}

/**
 * What a field holds per pixel, from the interpolated radius r in plane pixels:
 * - "radius": r itself (blur);
 * - "level": log2 of the pixelation cell side 1 + 2r (downsample), taken piecewise linear between
 *   powers of two (exact at each power, so cells and levels agree) because Math.log2 per pixel
 *   would cost more than the filter;
 * - "alpha": min(1, r * k), the blend towards the flat surface (flatten), k = 1 / full radius.
 */
export type FieldKind = "radius" | "level" | "alpha";

function transform(kind: FieldKind, r: number, k: number): number {
  if (kind === "radius") return r;
  if (kind === "alpha") return r * k < 1 ? r * k : 1;
  const c = r < 1 << 19 ? 1 + 2 * r : 1 << 20;
  const l = 31 - Math.clz32(c);
  return l + c / (1 << l) - 1;
}

/**
 * Runs of equal integer strength along each row of a field, RUN ints each: start, end (exclusive),
 * key (-1 for pixels with strength 0, to copy; floor(strength) otherwise) and 1 if any pixel of
 * the run has a fractional part, else 0. The kernels work run by run, so the rows of the
 * summed-area table they read and the areas they divide by are set once per run instead of once
 * per pixel, and a run of whole radii (a uniform background) skips the second box.
 */
export const RUN = 4;

export interface Runs {
  /** Row y's runs are data[RUN * rowStart[y] .. RUN * rowStart[y + 1]). */
  readonly rowStart: Int32Array;
  readonly data: Int32Array;
}

/** A plane's field: one value per pixel, its runs, and whether any value is non-zero. */
export interface PlaneField {
  readonly field: Float32Array;
  readonly runs: Runs;
  readonly active: boolean;
}

/**
 * Fills the field of `kind` for a planeW x planeH plane, r being bilinearly interpolated between
 * the four corners of the pixel's block, and cuts its rows into runs in the same pass. Where a
 * block's row has equal ends (inside a region or a uniform background) the span is one constant
 * fill, so a map that changes every frame costs little. Reuses the arrays of `prev` when given.
 */
export function buildField(
  grid: CornerGrid,
  planeW: number,
  planeH: number,
  scale: number,
  kind: FieldKind,
  k: number,
  prev?: PlaneField,
): PlaneField {
  const { cols, rows, blockSize: B, corners } = grid;
  const field = prev && prev.field.length === planeW * planeH ? prev.field : new Float32Array(planeW * planeH);
  const rowStart = prev && prev.runs.rowStart.length === planeH + 1 ? prev.runs.rowStart : new Int32Array(planeH + 1);
  let data = prev?.runs.data ?? new Int32Array(RUN * 8 * planeH);
  const xs = blockStarts(planeW, scale, B, cols);
  const ys = blockStarts(planeH, scale, B, rows);
  const fx = fractions(planeW, scale, B, grid.width, xs, cols);
  const fy = fractions(planeH, scale, B, grid.height, ys, rows);
  const C = cols + 1;
  let n = 0;
  let active = false;
  // The run being grown along the current row.
  let runStart = 0, runKey = -2, runFrac = 0;
  const close = (end: number): void => {
    if (RUN * (n + 1) > data.length) {
      const bigger = new Int32Array(data.length * 2);
      bigger.set(data);
      data = bigger;
    }
    data[RUN * n] = runStart;
    data[RUN * n + 1] = end;
    data[RUN * n + 2] = runKey;
    data[RUN * n + 3] = runFrac;
    n++;
  };
  for (let by = 0; by < rows; by++) {
    for (let py = ys[by]!; py < ys[by + 1]!; py++) {
      rowStart[py] = n;
      runKey = -2;
      const t = fy[py]!;
      const row = py * planeW;
      for (let bx = 0; bx < cols; bx++) {
        const top = by * C + bx;
        const left = (corners[top]! + (corners[top + C]! - corners[top]!) * t) * scale;
        const right = (corners[top + 1]! + (corners[top + C + 1]! - corners[top + 1]!) * t) * scale;
        const px0 = xs[bx]!;
        const px1 = xs[bx + 1]!;
        if (left === right) {
          const v = left > 0 ? transform(kind, left, k) : 0;
          const key = v > 0 ? v | 0 : -1;
          field.fill(v, row + px0, row + px1);
          if (key !== runKey) {
            if (runKey !== -2) close(px0);
            runStart = px0;
            runKey = key;
            runFrac = 0;
          }
          if (v !== key && key >= 0) runFrac = 1;
          continue;
        }
        for (let px = px0; px < px1; px++) {
          const r = left + (right - left) * fx[px]!;
          const v = r > 0 ? transform(kind, r, k) : 0;
          field[row + px] = v;
          const key = v > 0 ? v | 0 : -1;
          if (key !== runKey) {
            if (runKey !== -2) close(px);
            runStart = px;
            runKey = key;
            runFrac = 0;
          }
          if (v !== key && key >= 0) runFrac = 1;
        }
      }
      close(planeW);
      if (n - rowStart[py]! > 1 || runKey >= 0) active = true;
    }
  }
  rowStart[planeH] = n;
  return { field, runs: { rowStart, data }, active };
}

/** For each plane pixel, how far its centre lies across its block (0 to 1), in luma coordinates. */
function fractions(n: number, scale: number, B: number, lumaN: number, starts: Int32Array, blocks: number): Float32Array {
  const f = new Float32Array(n);
  for (let b = 0; b < blocks; b++) {
    const l0 = b * B;
    const len = Math.min(B, lumaN - l0);
    for (let p = starts[b]!; p < starts[b + 1]!; p++) f[p] = clamp01(((p + 0.5) / scale - l0) / len);
  }
  return f;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * A coarse grid over one plane for the "flatten" mode: cells of `cell` pixels (the last ones
 * partial), the centre of each column of cells, and for each row of pixels the row of cells whose
 * centre lies above it with the fraction of the way to the next, for bilinear interpolation
 * between cell centres. Outside the first and last centres the surface is held constant.
 */
export interface CellGrid {
  readonly cell: number;
  readonly cols: number;
  readonly rows: number;
  /** x of each column's centre, in pixel units (pixel x has its centre at x + 0.5). */
  readonly centres: Float64Array;
  readonly y0: Int32Array;
  readonly fy: Float32Array;
}

export function cellGrid(planeW: number, planeH: number, cell: number): CellGrid {
  const cols = Math.ceil(planeW / cell);
  const rows = Math.ceil(planeH / cell);
  const centres = new Float64Array(cols);
  for (let c = 0; c < cols; c++) centres[c] = (c * cell + Math.min((c + 1) * cell, planeW)) / 2;
  const [y0, fy] = centreLerp(planeH, cell, rows);
  return { cell, cols, rows, centres, y0, fy };
}

function centreLerp(n: number, cell: number, cells: number): [Int32Array, Float32Array] {
  const idx = new Int32Array(n);
  const frac = new Float32Array(n);
  const centre = (c: number): number => (c * cell + Math.min((c + 1) * cell, n)) / 2;
  for (let p = 0; p < n; p++) {
    const pos = p + 0.5;
    let c = Math.min(cells - 1, Math.max(0, Math.floor((pos - cell / 2) / cell)));
    if (c < cells - 1 && pos >= centre(c + 1)) c++;
    idx[p] = c;
    frac[p] = c === cells - 1 || pos <= centre(c) ? 0 : (pos - centre(c)) / (centre(c + 1) - centre(c));
  }
  return [idx, frac];
}

