/**
 * The delay-based rate controller of Google Congestion Control (draft-ietf-rmcat-gcc-02 §5.5):
 * a state machine driven by the over-use detector's signal,
 *
 *   signal \ state | Hold     | Increase | Decrease
 *   over-use       | Decrease | Decrease | Decrease
 *   normal         | Increase | Increase | Hold
 *   under-use      | Hold     | Hold     | Hold
 *
 * - Increase: multiplicative, A(i) = eta * A(i-1) with eta = 1.08^min(dt / 1 s, 1), while the
 *   received rate is far from the rate at which the link last over-used; additive near it,
 *   A(i) += max(1000 bps, alpha * expected packet size) with alpha = 0.5 * min(dt / response
 *   time, 1) and response time = 100 ms + RTT. "Near" is within 3 standard deviations of the
 *   average received rate at the last over-uses (an exponential average, smoothing 0.95).
 * - Decrease: A(i) = beta * R(i), beta = 0.85, R the received rate; at most once per
 *   min(max(RTT, 10 ms), 200 ms) unless R fell under half of A, as libwebrtc's
 *   aimd_rate_control.cc does, so one queue build-up is not cut for several times over.
 * - A(i) never grows past 1.5 * R(i) (§5.5), plus 10 kbps so a low start can still climb; a
 *   sender that sends less than it may (a model that needs few bits) does not earn a credit.
 *
 * With no received rate known (nothing arrived lately) the estimate holds. The elapsed time is
 * taken as 0 when the clock goes back and capped at 1 s when it jumps forward, so a clock jump
 * moves the rate by at most one normal step. Pure: the clock is a parameter.
 */
import type { BandwidthUsage } from "./trendline.ts";

export type RateState = "hold" | "increase" | "decrease";

export interface AimdOptions {
  readonly minBps: number;
  readonly maxBps: number;
  /** The first estimate. Default maxBps. */
  readonly startBps?: number;
}

const BETA = 0.85;
const MAX_TO_RECEIVED = 1.5;

export class AimdRateController {
  private estimate: number;
  private rateState: RateState = "hold";
  private lastUpdateMs: number | null = null;
  private lastDecreaseMs: number | null = null;
  /** Average and variance (normalised by the average) of the received rate at over-use, kbps. */
  private avgMaxKbps: number | null = null;
  private varMaxKbps = 0.4;

  constructor(private readonly o: AimdOptions) {
    if (!(o.minBps > 0 && o.maxBps >= o.minBps)) throw new RangeError(`need 0 < minBps <= maxBps, got ${o.minBps}, ${o.maxBps}`);
    this.estimate = clamp(o.startBps ?? o.maxBps, o.minBps, o.maxBps);
  }

  get bitrateBps(): number {
    return this.estimate;
  }

  get state(): RateState {
    return this.rateState;
  }


  /**
   * One step: the detector's signal, the received rate over the last 0.5-1 s (null when unknown),
   * the clock and the round-trip time. `queueStanding`: the queue is still well above empty, so
   * an increase waits (see delay-based.ts). Returns the estimate.
   */
  update(usage: BandwidthUsage, receivedBps: number | null, nowMs: number, rttMs = 100, queueStanding = false): number {
    const dtMs = this.lastUpdateMs === null ? 0 : Math.min(Math.max(nowMs - this.lastUpdateMs, 0), 1000);
    this.lastUpdateMs = nowMs;
    this.rateState = next(this.rateState, usage);
    if (receivedBps === null || !Number.isFinite(receivedBps) || receivedBps < 0) {
      if (this.rateState === "decrease") this.rateState = "hold";
      return this.estimate;
    }
    const rtt = Number.isFinite(rttMs) && rttMs > 0 ? Math.min(rttMs, 2000) : 100;
    const receivedKbps = receivedBps / 1000;
    if (this.rateState === "increase" && queueStanding) {
      // Not a state change: the next normal signal with the queue gone increases.
    } else if (this.rateState === "increase") {
      // Far above the average at over-use: the link changed; forget it and probe multiplicatively.
      if (this.avgMaxKbps !== null && receivedKbps > this.avgMaxKbps + 3 * this.stdMaxKbps()) this.avgMaxKbps = null;
      let next: number;
      if (this.avgMaxKbps !== null) {
        const bitsPerFrame = this.estimate / 30;
        const packetsPerFrame = Math.ceil(bitsPerFrame / (1200 * 8));
        const alpha = 0.5 * Math.min(dtMs / (100 + rtt), 1);
        next = this.estimate + Math.max(1000, alpha * (bitsPerFrame / packetsPerFrame));
      } else {
        next = this.estimate * Math.pow(1.08, dtMs / 1000);
      }
      const ceiling = MAX_TO_RECEIVED * receivedBps + 10_000;
      if (next > ceiling) next = Math.max(this.estimate, ceiling);
      this.estimate = next;
    } else if (this.rateState === "decrease") {
      const interval = Math.min(Math.max(rtt, 10), 200);
      const mayCut = this.lastDecreaseMs === null || nowMs - this.lastDecreaseMs >= interval || nowMs < this.lastDecreaseMs || receivedBps < 0.5 * this.estimate;
      if (mayCut) {
        const cut = BETA * receivedBps;
        if (cut < this.estimate) this.estimate = cut;
        this.lastDecreaseMs = nowMs;
        this.noteOveruse(receivedKbps);
      }
      // Decrease is a step, not a state to stay in (libwebrtc moves to hold after it).
      this.rateState = "hold";
    }
    this.estimate = clamp(this.estimate, this.o.minBps, this.o.maxBps);
    return this.estimate;
  }

  private stdMaxKbps(): number {
    return Math.sqrt(this.varMaxKbps * (this.avgMaxKbps ?? 0));
  }

  private noteOveruse(receivedKbps: number): void {
    if (this.avgMaxKbps !== null && receivedKbps < this.avgMaxKbps - 3 * this.stdMaxKbps()) this.avgMaxKbps = null;
    const a = 0.05;
    this.avgMaxKbps = this.avgMaxKbps === null ? receivedKbps : (1 - a) * this.avgMaxKbps + a * receivedKbps;
    const norm = Math.max(this.avgMaxKbps, 1);
    this.varMaxKbps = clamp((1 - a) * this.varMaxKbps + (a * (this.avgMaxKbps - receivedKbps) ** 2) / norm, 0.4, 2.5);
  }
}

function next(state: RateState, usage: BandwidthUsage): RateState {
  if (usage === "overuse") return "decrease";
  if (usage === "underuse") return "hold";
  return state === "decrease" ? "hold" : "increase";
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
