/**
 * Region-of-interest pre-filter: simplifies the unimportant blocks of raw frames (blur, pixelate or
 * flatten) before any video encoder sees them, so that the encoder spends its bits on the region the
 * importance map marks as important. Works on I420 frames (ffmpeg, WebCodecs) and on canvas RGBA.
 *
 * Pure TypedArray code (no Node imports, no Buffer, no process): the browser client runs it on
 * camera frames. A test in this folder guards that rule.
 */
import { EncoderError } from "../errors.ts";
import { assertMapFits, resampleMap, type ImportanceMap } from "../importance/map.ts";
import { buildField, cellGrid, cornerGrid, type CellGrid, type CornerGrid, type PlaneField } from "./field.ts";
import { checkDims, checkI420, createI420, type I420Frame } from "./i420.ts";
import { blurPlane, buildSat, downsamplePlane, flattenPlane } from "./kernels.ts";

export { createI420, i420FromBuffer, i420Size, i420ToBuffer, type I420Frame } from "./i420.ts";

export type PrefilterMode = "blur" | "downsample" | "flatten";
const MODES: readonly PrefilterMode[] = ["blur", "downsample", "flatten"];

export interface StrengthOptions {
  /** Weights at or above this keep radius 0 (copied bit-exact). Default 0.9. */
  readonly threshold?: number;
  /** Radius in luma pixels at weight 0. Default `defaultMaxRadius(width, height)`. */
  readonly maxRadius?: number;
  /** Picture size, only used to derive the default maxRadius. */
  readonly width?: number;
  readonly height?: number;
}

export interface RoiPrefilterOptions {
  /** "blur" (default): variable box blur; "downsample": pixelate; "flatten": pull towards local means. */
  readonly mode?: PrefilterMode;
  /** Strongest radius in luma pixels, at weight 0. Default scales with the frame (defaultMaxRadius). */
  readonly maxRadius?: number;
  /** Weights at or above this are left untouched. Default 0.9. */
  readonly threshold?: number;
}

export const DEFAULT_THRESHOLD = 0.9;

/**
 * Default strongest radius: 1/80 of the longer side (16 px at 1280x720, 8 px at 640x360), at
 * least 4 px. Scaling with the picture keeps the same look at every resolution: a fixed radius
 * would barely touch a 4K frame and wipe out a thumbnail.
 */
export function defaultMaxRadius(width: number, height: number): number {
  checkDims(width, height, "picture");
  return Math.max(4, Math.round(Math.max(width, height) / 80));
}

/**
 * Filter strength (box radius in luma pixels) for a block weight in [0, 1]:
 *
 *   radius = maxRadius * (threshold - weight) / threshold   for weight < threshold
 *   radius = 0                                              for weight >= threshold
 *
 * A straight line from maxRadius at weight 0 down to 0 at the threshold. The threshold sits below
 * 1 so that blocks the map nearly fully wants (fall-off rounding, merged maps) stay exact; the line
 * is linear because the map's own fall-off (Artic's resp^gamma) already shapes how fast weights
 * drop away from the region. A weight that is not a number gets radius 0: when in doubt, keep.
 */
export function prefilterStrength(weight: number, opts: StrengthOptions = {}): number {
  const threshold = checkThreshold(opts.threshold ?? DEFAULT_THRESHOLD);
  let maxRadius = opts.maxRadius;
  if (maxRadius === undefined) {
    if (opts.width === undefined || opts.height === undefined) {
      throw new EncoderError("INVALID_OPTION", "prefilterStrength needs maxRadius, or width and height to derive it");
    }
    maxRadius = defaultMaxRadius(opts.width, opts.height);
  }
  return strength(weight, threshold, checkMaxRadius(maxRadius));
}

function strength(weight: number, threshold: number, maxRadius: number): number {
  if (!(weight < threshold)) return 0; // also NaN
  const t = (threshold - Math.max(0, weight)) / threshold;
  return maxRadius * t;
}

function checkThreshold(t: number): number {
  if (!(t > 0 && t <= 1)) throw new EncoderError("INVALID_OPTION", `prefilter threshold must be in (0, 1], got ${t}`);
  return t;
}

function checkMaxRadius(r: number): number {
  if (!(r >= 0 && r <= 1024)) throw new EncoderError("INVALID_OPTION", `prefilter maxRadius must be in [0, 1024] px, got ${r}`);
  return r;
}

/** What a map turned into for one frame size, cached on the map object. */
interface GridEntry {
  readonly width: number;
  readonly height: number;
  /** Copy of the map's weights when cached: a map whose weights were changed in place is redone. */
  readonly weights: Float32Array;
  readonly grid: CornerGrid;
}

/** A per-pixel strength field for one plane size, rebuilt only when the grid changes. */
interface FieldEntry {
  grid: CornerGrid | null;
  plane: PlaneField | undefined;
  readonly cells: CellGrid;
  readonly means: Float32Array;
  readonly rowBuf: Float32Array;
  readonly surface: Float32Array;
}

/**
 * Pre-filters frames against an importance map. Blocks with weight >= threshold are copied
 * bit-exact; the others are blurred, pixelated or flattened with a strength that grows as their
 * weight falls (prefilterStrength), interpolated between blocks so that no block edges appear.
 *
 * One instance per video stream: it keeps scratch memory and, per map object, the map fitted to
 * the frame (resampled when the map was made at another picture size) and the per-pixel strength
 * field. Reusing a map costs nothing; a new map (or one whose weights were changed in place) costs
 * one pass over the pixels to rebuild the field, well under half the cost of filtering a frame.
 */
export class RoiPrefilter {
  readonly mode: PrefilterMode;
  readonly threshold: number;
  /** undefined: derived from each frame's size with defaultMaxRadius. */
  readonly maxRadius: number | undefined;
  readonly #grids = new WeakMap<ImportanceMap, GridEntry>();
  readonly #fields = new Map<string, FieldEntry>();
  #sat = new Float64Array(0);

  constructor(opts: RoiPrefilterOptions = {}) {
    const mode = opts.mode ?? "blur";
    if (!MODES.includes(mode)) {
      throw new EncoderError("INVALID_OPTION", `prefilter mode must be one of ${MODES.join(", ")}, got ${String(mode)}`);
    }
    this.mode = mode;
    this.threshold = checkThreshold(opts.threshold ?? DEFAULT_THRESHOLD);
    this.maxRadius = opts.maxRadius === undefined ? undefined : checkMaxRadius(opts.maxRadius);
  }

  /**
   * Filters an I420 frame: luma at full resolution, chroma at half with half the radius (same
   * area of the picture). Writes into `out` (which may be `frame` itself, to filter in place) or
   * into a new frame; `frame` is never changed unless it is passed as `out`. A map made for
   * another picture size is resampled (stretched) to the frame with `resampleMap`.
   */
  applyI420(frame: I420Frame, map: ImportanceMap, out?: I420Frame): I420Frame {
    checkI420(frame, "frame");
    const { width: w, height: h } = frame;
    const dst = out ?? createI420(w, h);
    if (out) {
      checkI420(out, "output frame");
      if (out.width !== w || out.height !== h) {
        throw new EncoderError("INVALID_SIZE", `output frame is ${out.width}x${out.height} but the input frame is ${w}x${h}`);
      }
    }
    const grid = this.#grid(map, w, h);
    const cw = Math.ceil(w / 2);
    const ch = Math.ceil(h / 2);
    const luma = this.#field(grid, w, h, 1);
    this.#plane(frame.y, dst.y, w, h, 1, 0, luma);
    const chroma = this.#field(grid, cw, ch, 0.5);
    this.#plane(frame.u, dst.u, cw, ch, 1, 0, chroma);
    this.#plane(frame.v, dst.v, cw, ch, 1, 0, chroma);
    return dst;
  }

  /**
   * Filters canvas RGBA pixels (ImageData.data): the same maths as the luma plane on each of R, G
   * and B; alpha is copied as it is. Writes into `out` (may be `data`) or a new array.
   */
  applyRgba(data: Uint8ClampedArray, width: number, height: number, map: ImportanceMap, out?: Uint8ClampedArray): Uint8ClampedArray {
    checkDims(width, height, "RGBA picture");
    const n = width * height * 4;
    if (data.length !== n) {
      throw new EncoderError("INVALID_SIZE", `RGBA pixels of ${width}x${height} take ${n} bytes, got ${data.length}`);
    }
    const dst = out ?? new Uint8ClampedArray(n);
    if (dst.length !== n) {
      throw new EncoderError("INVALID_SIZE", `RGBA output of ${width}x${height} needs ${n} bytes, got ${dst.length}`);
    }
    const field = this.#field(this.#grid(map, width, height), width, height, 1);
    // Byte views of the same memory: the kernels then only ever see Uint8Array, which keeps the
    // JIT's code for them monomorphic (mixing array kinds slowed the I420 path measurably), and
    // the values they write are whole numbers in [0, 255], which both array kinds store alike.
    const s8 = new Uint8Array(data.buffer, data.byteOffset, n);
    const d8 = dst === data ? s8 : new Uint8Array(dst.buffer, dst.byteOffset, n);
    for (let c = 0; c < 3; c++) this.#plane(s8, d8, width, height, 4, c, field);
    if (d8 !== s8) for (let i = 3; i < n; i += 4) d8[i] = s8[i]!;
    return dst;
  }

  /** Corner radii of `map` fitted to a w x h frame, resampled and cached per map object. */
  #grid(map: ImportanceMap, w: number, h: number): CornerGrid {
    const hit = this.#grids.get(map);
    if (hit && hit.width === w && hit.height === h && sameWeights(hit.weights, map.weights)) return hit.grid;
    const { cols, rows, blockSize, weights } = map;
    const broken = !(cols > 0 && rows > 0 && blockSize > 0 && map.width > 0 && map.height > 0)
      || !weights || weights.length !== cols * rows;
    if (broken) {
      throw new EncoderError(
        "MAP_SIZE_MISMATCH",
        `importance map is ${cols}x${rows} blocks (${map.width}x${map.height}, ${blockSize}px) with ${weights?.length} weights, so it cannot be resampled to the ${w}x${h} frame`,
      );
    }
    let fitted = map;
    if (map.width !== w || map.height !== h) fitted = resampleMap(map, w, h);
    assertMapFits(fitted, w, h);
    const maxRadius = this.maxRadius ?? defaultMaxRadius(w, h);
    const grid = cornerGrid(fitted, (weight) => strength(weight, this.threshold, maxRadius));
    this.#grids.set(map, { width: w, height: h, weights: Float32Array.from(weights), grid });
    return grid;
  }

  /** The per-pixel field of one plane (scale 1: luma/RGBA, 0.5: chroma), in the mode's units. */
  #field(grid: CornerGrid, pw: number, ph: number, scale: number): FieldEntry {
    // Flatten cells: one map block (half a block in chroma, like the blocks themselves), >= 2 px.
    const cell = Math.max(2, Math.round(grid.blockSize * scale));
    const key = `${pw}x${ph}@${scale}/${cell}`;
    let entry = this.#fields.get(key);
    if (!entry) {
      const cells = cellGrid(pw, ph, cell);
      entry = {
        grid: null,
        plane: undefined,
        cells,
        means: new Float32Array(cells.cols * cells.rows),
        rowBuf: new Float32Array(cells.cols),
        surface: new Float32Array(pw),
      };
      this.#fields.set(key, entry);
    }
    if (entry.grid !== grid) {
      const kind = this.mode === "blur" ? "radius" : this.mode === "downsample" ? "level" : "alpha";
      // Flatten blends by 1 - weight rescaled so that the threshold maps to 0: radius / maxRadius.
      const full = (this.maxRadius ?? defaultMaxRadius(grid.width, grid.height)) * scale;
      const k = full > 0 ? 1 / full : 0;
      if (grid.active) entry.plane = buildField(grid, pw, ph, scale, kind, k, entry.plane);
      else if (entry.plane) entry.plane = { ...entry.plane, active: false }; // keep the arrays for reuse
      entry.grid = grid;
    }
    return entry;
  }

  #plane(src: Uint8Array, dst: Uint8Array, w: number, h: number, step: number, offset: number, f: FieldEntry): void {
    const plane = f.plane;
    if (!plane || !plane.active) {
      if (src !== dst) {
        if (step === 1) dst.set(src);
        else for (let i = offset; i < src.length; i += step) dst[i] = src[i]!;
      }
      return;
    }
    if (this.mode === "flatten") {
      flattenPlane(src, dst, w, h, step, offset, plane.field, plane.runs, f.cells, f.means, f.rowBuf, f.surface);
      return;
    }
    const satSize = (w + 1) * (h + 1);
    if (this.#sat.length < satSize) this.#sat = new Float64Array(satSize);
    const sat = this.#sat;
    buildSat(src, w, h, step, offset, sat);
    if (this.mode === "blur") blurPlane(src, dst, w, h, step, offset, plane.field, plane.runs, sat);
    else downsamplePlane(src, dst, w, h, step, offset, plane.field, plane.runs, sat);
  }
}

function sameWeights(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
