/**
 * The over-use detector of Google Congestion Control (draft-ietf-rmcat-gcc-02 §5.4) on a trendline
 * of the queuing delay, the arrival-time filter libwebrtc uses in place of the draft's Kalman
 * filter (modules/congestion_controller/goog_cc/trendline_estimator.cc): the delay variations
 * d(i) of the packet groups are accumulated, smoothed (coefficient 0.9), and the slope of a
 * least-squares line through the last 20 (arrival time, smoothed delay) points says whether the
 * queue grows. The slope, scaled by min(groups seen, 60) x 4 as libwebrtc does so that it compares
 * with a threshold in milliseconds, is m(i) below.
 *
 * Over-use: m(i) > del_var_th for more than 10 ms (overuse_time_th, §5.4) and m(i) not falling;
 * under-use: m(i) < -del_var_th; otherwise normal. The threshold adapts (§5.4):
 *
 *   del_var_th(i) = del_var_th(i-1) + (t(i) - t(i-1)) * K(i) * (|m(i)| - del_var_th(i-1))
 *
 * with K(i) = K_d when |m(i)| < del_var_th(i-1), K_u otherwise (see below for their values), left alone when
 * |m(i)| - del_var_th(i) > 15 ms (a spike, e.g. a route change), clamped to [6, 600] ms, and
 * starting at 12.5 ms. The elapsed time in the update is capped at 100 ms so that a gap or a clock
 * jump cannot move the threshold in one step. Pure.
 */
import type { GroupDelta } from "./inter-arrival.ts";

export type BandwidthUsage = "normal" | "overuse" | "underuse";

export interface TrendlineOptions {
  /** Points in the regression. Default 20 (libwebrtc). */
  readonly windowSize?: number;
  /** Smoothing of the accumulated delay. Default 0.9 (libwebrtc). */
  readonly smoothing?: number;
}

const THRESHOLD_GAIN = 4;
const MIN_DELTAS = 60;
const OVERUSE_TIME_MS = 10;
// The gains that go with the trendline (libwebrtc trendline_estimator.cc); the draft's K_u = 0.01
// and K_d = 0.00018 were set for its Kalman estimate, and with them the threshold, once a capacity
// drop had pushed it up, took ~5 s per e-fold to come down, blind to the queue meanwhile.
const K_UP = 0.0087;
const K_DOWN = 0.039;
const MAX_ADAPT_OFFSET_MS = 15;
const MIN_THRESHOLD_MS = 6;
const MAX_THRESHOLD_MS = 600;

export class TrendlineDetector {
  private readonly windowSize: number;
  private readonly smoothing: number;
  private readonly points: { x: number; y: number }[] = [];
  private firstArrivalMs: number | null = null;
  private accumulatedMs = 0;
  private smoothedMs = 0;
  private deltas = 0;
  private trend = 0;
  private prevTrend = 0;
  private overuseMs = -1;
  private overuseCount = 0;
  private thresholdMs = 12.5;
  private lastThresholdUpdateMs: number | null = null;
  private usage: BandwidthUsage = "normal";

  constructor(o: TrendlineOptions = {}) {
    this.windowSize = o.windowSize ?? 20;
    this.smoothing = o.smoothing ?? 0.9;
  }

  get state(): BandwidthUsage {
    return this.usage;
  }

  /** m(i) as last computed, ms. */
  get modifiedTrend(): number {
    return Math.min(this.deltas, MIN_DELTAS) * this.trend * THRESHOLD_GAIN;
  }

  get threshold(): number {
    return this.thresholdMs;
  }

  /** Starts over (the caller saw the groups reset: the old points belong to another clock). */
  reset(): void {
    this.points.length = 0;
    this.firstArrivalMs = null;
    this.accumulatedMs = 0;
    this.smoothedMs = 0;
    this.deltas = 0;
    this.trend = 0;
    this.prevTrend = 0;
    this.overuseMs = -1;
    this.overuseCount = 0;
    this.usage = "normal";
  }

  update(d: GroupDelta): BandwidthUsage {
    const delta = d.arrivalDeltaMs - d.sendDeltaMs;
    this.deltas = Math.min(this.deltas + 1, 1000);
    this.firstArrivalMs ??= d.arrivalMs;
    this.accumulatedMs += delta;
    this.smoothedMs = this.smoothing * this.smoothedMs + (1 - this.smoothing) * this.accumulatedMs;
    this.points.push({ x: d.arrivalMs - this.firstArrivalMs, y: this.smoothedMs });
    if (this.points.length > this.windowSize) this.points.shift();
    if (this.points.length === this.windowSize) this.trend = slope(this.points) ?? this.trend;
    this.detect(d.sendDeltaMs, d.arrivalMs);
    return this.usage;
  }

  private detect(sendDeltaMs: number, nowMs: number): void {
    if (this.deltas < 2) {
      this.usage = "normal";
      return;
    }
    const m = this.modifiedTrend;
    if (m > this.thresholdMs) {
      this.overuseMs = this.overuseMs === -1 ? sendDeltaMs / 2 : this.overuseMs + sendDeltaMs;
      this.overuseCount++;
      if (this.overuseMs > OVERUSE_TIME_MS && this.overuseCount > 1 && this.trend >= this.prevTrend) {
        this.overuseMs = 0;
        this.overuseCount = 0;
        this.usage = "overuse";
      }
    } else if (m < -this.thresholdMs) {
      this.overuseMs = -1;
      this.overuseCount = 0;
      this.usage = "underuse";
    } else {
      this.overuseMs = -1;
      this.overuseCount = 0;
      this.usage = "normal";
    }
    this.prevTrend = this.trend;
    this.adaptThreshold(m, nowMs);
  }

  private adaptThreshold(m: number, nowMs: number): void {
    const last = this.lastThresholdUpdateMs ?? nowMs;
    this.lastThresholdUpdateMs = nowMs;
    if (Math.abs(m) > this.thresholdMs + MAX_ADAPT_OFFSET_MS) return;
    const k = Math.abs(m) < this.thresholdMs ? K_DOWN : K_UP;
    const dt = Math.min(Math.max(nowMs - last, 0), 100);
    this.thresholdMs += k * (Math.abs(m) - this.thresholdMs) * dt;
    this.thresholdMs = Math.min(MAX_THRESHOLD_MS, Math.max(MIN_THRESHOLD_MS, this.thresholdMs));
  }
}

/** Least-squares slope of y over x; null when all x are equal. */
function slope(points: readonly { x: number; y: number }[]): number | null {
  let sx = 0;
  let sy = 0;
  for (const p of points) (sx += p.x), (sy += p.y);
  const mx = sx / points.length;
  const my = sy / points.length;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}
