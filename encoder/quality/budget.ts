/**
 * Budget-aware allocation: given a target bitrate and an importance map, choose per-block
 * quantiser offsets so that the encode lands on the target while the important region is as good
 * as it can be.
 *
 * Rate model (the usual H.264 rule of thumb, also used by x264's rate control): a block's bits fall
 * by half for every +6 of QP, in proportion to its complexity:
 *     bits_b(QP) = alpha * c_b * 2^(-QP / 6)
 * `alpha` is calibrated from one measured point: a baseline encode of the same content at the same
 * bitrate, which reports its average QP (x264 prints it).
 *
 * Every block gets QP_b = qRoi + shape_b * (qBg - qRoi), where shape_b in [0, 1] comes from the
 * block's weight through Artic's offset curve (0 for the important region, 1 far from it). Then:
 *  1. budget-limited: push the background to the coarsest allowed QP (qpMax, or qRoi + maxSpan) and
 *     solve for the lowest qRoi that fits the budget;
 *  2. if that qRoi is finer than `qpFloor` (text is already sharp there, more bits are wasted),
 *     hold qRoi at the floor and give the spare bits to the background (solve for qBg);
 *  3. if even a background at the floor fits, everything is at the floor or finer (uniform).
 * The output offsets are relative to qRoi and never push a block past qpMax, so a rate control that
 * adds them to its own frame QP does not lose bits to clipping.
 *
 * Pure: no Node imports.
 */
import { EncoderError } from "../errors.ts";
import type { ImportanceMap } from "../importance/map.ts";
import { qpOffsetFor, type QpOffsetMap, type QpOffsetOptions } from "./qp.ts";

export interface RateModel {
  /** Bits per frame per unit of complexity at QP 0. */
  readonly alpha: number;
}

export interface BudgetOptions {
  /** Target bits per frame (bitrate / frame rate). */
  readonly targetBitsPerFrame: number;
  /** Complexity per block (same grid as the map), > 0; uniform if omitted. */
  readonly complexity?: Float32Array;
  readonly model: RateModel;
  /** Finest QP worth spending bits on in the important region (default 24). */
  readonly qpFloor?: number;
  /** Coarsest QP the codec allows (H.264: 51). */
  readonly qpMax?: number;
  /** Largest gap between the important region and the background (default 30). */
  readonly maxSpan?: number;
  /** Shape of the fall-off, Artic's curve by default. */
  readonly offsetCurve?: QpOffsetOptions;
}

export interface BudgetAllocation {
  readonly offsets: QpOffsetMap;
  /** Predicted QP of the important region. */
  readonly qpRoi: number;
  /** Predicted QP of blocks with weight 0. */
  readonly qpBackground: number;
  readonly predictedBitsPerFrame: number;
  readonly regime: "budget-limited" | "quality-ceiling" | "uniform";
}

/** Calibrates alpha from a measured encode: it averaged `avgQp` and spent `bitsPerFrame`. */
export function calibrateRateModel(bitsPerFrame: number, avgQp: number, complexity: Float32Array): RateModel {
  if (!(bitsPerFrame > 0) || !Number.isFinite(avgQp)) {
    throw new EncoderError("INVALID_OPTION", `calibration needs bitsPerFrame > 0 and a finite QP, got ${bitsPerFrame}, ${avgQp}`);
  }
  let sum = 0;
  for (const c of complexity) sum += c;
  if (!(sum > 0)) throw new EncoderError("INVALID_OPTION", "calibration needs a complexity map with a positive sum");
  return { alpha: bitsPerFrame / (sum * 2 ** (-avgQp / 6)) };
}

/** Predicted bits per frame for QP_b = qRoi + shape_b * (qBg - qRoi). */
function bitsFor(alpha: number, c: Float32Array, shape: Float32Array, qRoi: number, qBg: number): number {
  let bits = 0;
  for (let i = 0; i < c.length; i++) bits += c[i]! * 2 ** (-(qRoi + shape[i]! * (qBg - qRoi)) / 6);
  return alpha * bits;
}

/** Smallest x in [lo, hi] with f(x) <= target, f decreasing; hi if none. */
function bisectDecreasing(f: (x: number) => number, target: number, lo: number, hi: number): number {
  if (f(lo) <= target) return lo;
  for (let k = 0; k < 50; k++) {
    const mid = (lo + hi) / 2;
    if (f(mid) <= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

export function allocateForBudget(map: ImportanceMap, options: BudgetOptions): BudgetAllocation {
  const { targetBitsPerFrame: target, model, qpFloor = 24, qpMax = 51, maxSpan = 30 } = options;
  if (!(target > 0)) throw new EncoderError("INVALID_BITRATE", `target bits per frame must be > 0, got ${target}`);
  if (!(model.alpha > 0)) throw new EncoderError("INVALID_OPTION", `rate model alpha must be > 0, got ${model.alpha}`);
  const n = map.weights.length;
  const c = options.complexity ?? new Float32Array(n).fill(1);
  if (c.length !== n) {
    throw new EncoderError("MAP_SIZE_MISMATCH", `complexity has ${c.length} blocks but the map has ${map.cols}x${map.rows}=${n}`);
  }
  const curve = options.offsetCurve ?? {};
  const maxCurve = qpOffsetFor(0, curve) || 1;
  const shape = new Float32Array(n);
  for (let i = 0; i < n; i++) shape[i] = qpOffsetFor(map.weights[i]!, curve) / maxCurve;

  let qRoi: number;
  let qBg: number;
  let regime: BudgetAllocation["regime"];
  // 1. Background as coarse as allowed; lowest qRoi that fits.
  const bgFor = (q: number) => Math.min(qpMax, q + maxSpan);
  qRoi = bisectDecreasing((q) => bitsFor(model.alpha, c, shape, q, bgFor(q)), target, 0, qpMax);
  qBg = bgFor(qRoi);
  regime = "budget-limited";
  if (qRoi < qpFloor) {
    // 2. The region is at its useful best; spend the rest on the background.
    qRoi = qpFloor;
    qBg = bisectDecreasing((q) => bitsFor(model.alpha, c, shape, qpFloor, q), target, qpFloor, bgFor(qpFloor));
    regime = "quality-ceiling";
    if (qBg <= qpFloor) {
      // 3. Even a uniform floor fits: no reason to favour any block.
      qRoi = qBg = bisectDecreasing((q) => bitsFor(model.alpha, c, shape, q, q), target, 0, qpFloor);
      regime = "uniform";
    }
  }
  const offsets = new Float32Array(n);
  for (let i = 0; i < n; i++) offsets[i] = shape[i]! * (qBg - qRoi);
  return {
    offsets: { cols: map.cols, rows: map.rows, blockSize: map.blockSize, width: map.width, height: map.height, offsets },
    qpRoi: qRoi,
    qpBackground: qBg,
    predictedBitsPerFrame: bitsFor(model.alpha, c, shape, qRoi, qBg),
    regime,
  };
}
