/**
 * Importance over time (pure, clock passed in as `nowMs`):
 * - `MapSmoother`: per-block smoothing with separate rise and fall times, so a region the chat
 *   asks about gets bits at once while one it stops asking about fades out instead of flickering.
 * - `extrapolateRegion`: predicts where a moving region will be `lookahead` ms later. The context
 *   loop in a call is 1-1.5 s late (question -> detector -> map -> sender), so a map built from
 *   what the server saw must aim where the region will be when the map takes effect.
 */
import { EncoderError } from "../errors.ts";
import type { ImportanceMap, Region } from "./map.ts";

export interface SmootherOptions {
  /** Time constant in ms for rising weights (0 = jump at once). Default 0. */
  readonly riseMs?: number;
  /** Time constant in ms for falling weights. Default 1000. */
  readonly fallMs?: number;
}

export class MapSmoother {
  private readonly riseMs: number;
  private readonly fallMs: number;
  private current: ImportanceMap | null = null;
  private lastMs = 0;

  constructor(options: SmootherOptions = {}) {
    this.riseMs = options.riseMs ?? 0;
    this.fallMs = options.fallMs ?? 1000;
    if (!(this.riseMs >= 0) || !(this.fallMs >= 0)) {
      throw new EncoderError("INVALID_OPTION", `riseMs and fallMs must be >= 0, got ${this.riseMs}, ${this.fallMs}`);
    }
  }

  /** Feeds the newest map at time nowMs and returns the smoothed map. */
  update(map: ImportanceMap, nowMs: number): ImportanceMap {
    const cur = this.current;
    if (!cur || cur.width !== map.width || cur.height !== map.height || cur.blockSize !== map.blockSize) {
      // First map, or the picture changed size: nothing to smooth against.
      this.current = { ...map, weights: Float32Array.from(map.weights) };
      this.lastMs = nowMs;
      return this.current;
    }
    if (nowMs < this.lastMs) {
      throw new EncoderError("INVALID_OPTION", `smoother clock went backwards: ${nowMs} ms after ${this.lastMs} ms`);
    }
    const dt = nowMs - this.lastMs;
    // Exponential approach: the fraction of the gap closed in dt for time constant tau.
    const step = (tau: number) => (tau === 0 ? 1 : 1 - Math.exp(-dt / tau));
    const up = step(this.riseMs);
    const down = step(this.fallMs);
    const w = new Float32Array(map.weights.length);
    for (let i = 0; i < w.length; i++) {
      const target = map.weights[i]!;
      const prev = cur.weights[i]!;
      w[i] = prev + (target - prev) * (target > prev ? up : down);
    }
    this.current = { ...map, weights: w };
    this.lastMs = nowMs;
    return this.current;
  }
}

export interface RegionObservation {
  readonly region: Region;
  readonly tMs: number;
}

export interface ExtrapolateOptions {
  /** Only observations this recent (relative to the newest) count. Default 2000 ms. */
  readonly historyMs?: number;
  /** The box grows by this fraction of the predicted travel on each side, for uncertainty. Default 0.5. */
  readonly growFraction?: number;
  /** Prediction further ahead than this is clamped to it. Default 3000 ms. */
  readonly maxLookaheadMs?: number;
}

/**
 * Least-squares velocity of the region's centre over recent observations, then a linear
 * prediction of the box at `atMs`, grown along the direction of travel's uncertainty.
 */
export function extrapolateRegion(observations: readonly RegionObservation[], atMs: number, options: ExtrapolateOptions = {}): Region {
  const { historyMs = 2000, growFraction = 0.5, maxLookaheadMs = 3000 } = options;
  if (observations.length === 0) throw new EncoderError("INVALID_OPTION", "extrapolateRegion needs at least one observation");
  const sorted = [...observations].sort((a, b) => a.tMs - b.tMs);
  const last = sorted[sorted.length - 1]!;
  const recent = sorted.filter((o) => o.tMs >= last.tMs - historyMs);
  let vx = 0;
  let vy = 0;
  if (recent.length >= 2) {
    const n = recent.length;
    const mt = recent.reduce((s, o) => s + o.tMs, 0) / n;
    const cx = (o: RegionObservation) => o.region.x + o.region.width / 2;
    const cy = (o: RegionObservation) => o.region.y + o.region.height / 2;
    const mx = recent.reduce((s, o) => s + cx(o), 0) / n;
    const my = recent.reduce((s, o) => s + cy(o), 0) / n;
    let stt = 0;
    let stx = 0;
    let sty = 0;
    for (const o of recent) {
      const dt = o.tMs - mt;
      stt += dt * dt;
      stx += dt * (cx(o) - mx);
      sty += dt * (cy(o) - my);
    }
    if (stt > 0) {
      vx = stx / stt;
      vy = sty / stt;
    }
  }
  const ahead = Math.min(maxLookaheadMs, Math.max(0, atMs - last.tMs));
  const dx = vx * ahead;
  const dy = vy * ahead;
  const gx = Math.abs(dx) * growFraction;
  const gy = Math.abs(dy) * growFraction;
  const r = last.region;
  return {
    x: r.x + dx - gx,
    y: r.y + dy - gy,
    width: r.width + 2 * gx,
    height: r.height + 2 * gy,
    ...(r.weight !== undefined ? { weight: r.weight } : {}),
  };
}
