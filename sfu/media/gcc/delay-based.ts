/**
 * Delay-based bandwidth estimate of Google Congestion Control (draft-ietf-rmcat-gcc-02 §5): per
 * packet, its send time (the sender's clock: abs-send-time, or the send times a sender kept for
 * transport-wide feedback) and its arrival time (the receiver's clock) go through the pre-filter
 * (inter-arrival.ts), the trendline over-use detector (trendline.ts) and the AIMD rate controller
 * (aimd.ts), with the received rate R(i) measured here over the last second of arrivals (§5.5:
 * 0.5 to 1 s).
 *
 * One addition to the draft: the increase waits while the queue stands more than
 * `queueTargetMs` (default 60 ms) above the lowest one-way delay of the last minute, the base
 * delay of LEDBAT (RFC 6817 §2.4.1, kept in 10 s buckets as its minute buckets). GCC's detector
 * sees the queue's slope, not its level: after a cut to 0.85 x the received rate the queue
 * drains for seconds, the slope flattens to "normal" half-way, and the increase that followed
 * kept 400-800 ms standing on a 300 kbps link with a 30-packet queue (rate-loop.test.ts).
 *
 * The same class serves both ends: the call server feeds it each packet as it arrives and sends
 * the estimate back as REMB (the draft's receiver side); a sender that gets per-packet feedback
 * feeds it the feedback (the bench's sender). Everything it is fed may be wrong (reordered,
 * duplicated, late, a jumping clock, nothing at all for a long time); the estimate stays within
 * [minBps, maxBps] and moves at most one controller step per packet group. Pure: times are
 * parameters, in milliseconds; memory is bounded (at most `maxWindowPackets` arrivals kept).
 */
import { AimdRateController, type RateState } from "./aimd.ts";
import { InterArrival } from "./inter-arrival.ts";
import { TrendlineDetector, type BandwidthUsage } from "./trendline.ts";

export interface DelayBasedOptions {
  readonly minBps: number;
  readonly maxBps: number;
  /** The first estimate. Default maxBps. */
  readonly startBps?: number;
  /** Window of the received rate. Default 1000 ms. */
  readonly rateWindowMs?: number;
  /** Arrivals kept for the received rate. Default 4096. */
  readonly maxWindowPackets?: number;
  /** Standing queue above which an increase waits. Default 60 ms. */
  readonly queueTargetMs?: number;
}

export interface DelayBasedSnapshot {
  readonly estimateBps: number;
  readonly usage: BandwidthUsage;
  readonly state: RateState;
  /** Received rate over the window; null when under half a window of arrivals. */
  readonly receivedBps: number | null;
  readonly thresholdMs: number;
  readonly modifiedTrendMs: number;
  readonly resets: number;
  /** Packets whose arrival time was left out (`onPacket`'s `untimed`). */
  readonly untimedPackets: number;
  /** One-way delay above the base delay (the sender's and receiver's clocks need not agree: only the difference counts), ms; null before a packet. */
  readonly queueMs: number | null;
}

export class DelayBasedEstimator {
  private readonly arrival = new InterArrival();
  private readonly detector = new TrendlineDetector();
  private readonly rate: AimdRateController;
  private readonly window: { arrivalMs: number; bytes: number }[] = [];
  private windowBytes = 0;
  private resetsSeen = 0;
  /** Packets whose arrival time was not used (`untimed`). */
  untimedPackets = 0;
  private readonly rateWindowMs: number;
  private readonly maxWindowPackets: number;
  private readonly queueTargetMs: number;
  /** Lowest one-way delay per 10 s of arrival time, the last six (RFC 6817's base delay). */
  private readonly baseBuckets: { startMs: number; minMs: number }[] = [];
  private lastOwdMs: number | null = null;
  private maxQueueSinceTaken: number | null = null;

  constructor(o: DelayBasedOptions) {
    this.rate = new AimdRateController(o);
    this.rateWindowMs = o.rateWindowMs ?? 1000;
    this.maxWindowPackets = o.maxWindowPackets ?? 4096;
    this.queueTargetMs = o.queueTargetMs ?? 60;
  }

  /** One-way delay over the base delay, ms (null before any packet). */
  get queueMs(): number | null {
    if (this.lastOwdMs === null || this.baseBuckets.length === 0) return null;
    return this.lastOwdMs - Math.min(...this.baseBuckets.map((b) => b.minMs));
  }

  /**
   * The highest standing queue since the last call (ms; null when no packet came): whether the
   * link queued over an interval, for the loss-based controller (sfu/call/link-rate.ts).
   */
  takeMaxQueueMs(): number | null {
    const q = this.maxQueueSinceTaken;
    this.maxQueueSinceTaken = null;
    return q;
  }

  private noteDelay(sendMs: number, arrivalMs: number): void {
    const owd = arrivalMs - sendMs;
    this.lastOwdMs = owd;
    const last = this.baseBuckets.at(-1);
    if (last && arrivalMs >= last.startMs && arrivalMs < last.startMs + 10_000) {
      last.minMs = Math.min(last.minMs, owd);
      return;
    }
    this.baseBuckets.push({ startMs: arrivalMs, minMs: owd });
    if (this.baseBuckets.length > 6) this.baseBuckets.shift();
  }

  get estimateBps(): number {
    return this.rate.bitrateBps;
  }

  /**
   * One packet: sent at `sendMs` (sender's clock), arrived at `arrivalMs` (receiver's clock).
   * Runs the rate controller when the packet completes a group. Returns the estimate.
   *
   * `untimed`: the receiver knows `arrivalMs` may be late by an unknown amount (it could not read
   * its socket: loop-stalls.ts). The packet counts as received bytes, but its time goes neither
   * into the groups (they start afresh after it) nor into the queue level. A stalled reader makes
   * packets look delayed and then bunched, and GCC reads that as a queue building (§5.4): on a
   * loaded server the estimate fell under 300 kbps on localhost.
   */
  onPacket(sendMs: number, arrivalMs: number, bytes: number, rttMs = 100, untimed = false): number {
    if (!Number.isFinite(arrivalMs) || !Number.isFinite(sendMs) || !(bytes >= 0) || !Number.isFinite(bytes)) return this.estimateBps;
    this.countArrival(arrivalMs, bytes);
    if (untimed) {
      this.untimedPackets++;
      this.arrival.interrupt();
      return this.estimateBps;
    }
    const g = this.arrival.add(sendMs, arrivalMs, bytes);
    if (this.arrival.resets !== this.resetsSeen) {
      // The clocks jumped: the trendline's points and the base delay belong to the old clock.
      this.resetsSeen = this.arrival.resets;
      this.detector.reset();
      this.baseBuckets.length = 0;
    }
    this.noteDelay(sendMs, arrivalMs);
    const queued = this.queueMs;
    if (queued !== null) this.maxQueueSinceTaken = Math.max(this.maxQueueSinceTaken ?? queued, queued);
    if (g === null) return this.estimateBps;
    const usage = this.detector.update(g);
    return this.rate.update(usage, this.receivedBps(arrivalMs), arrivalMs, rttMs, queued !== null && queued > this.queueTargetMs);
  }

  /** Received rate over the window ending at `nowMs` (receiver's clock); null when too little. */
  receivedBps(nowMs: number): number | null {
    this.prune(nowMs);
    if (this.window.length < 2) return null;
    const span = nowMs - this.window[0]!.arrivalMs;
    if (span < this.rateWindowMs / 2) return null;
    return (this.windowBytes * 8 * 1000) / Math.max(span, this.rateWindowMs / 2);
  }

  snapshot(nowMs: number): DelayBasedSnapshot {
    return {
      estimateBps: Math.round(this.estimateBps),
      usage: this.detector.state,
      state: this.rate.state,
      receivedBps: this.receivedBps(nowMs),
      thresholdMs: this.detector.threshold,
      modifiedTrendMs: this.detector.modifiedTrend,
      resets: this.arrival.resets,
      untimedPackets: this.untimedPackets,
      queueMs: this.queueMs === null ? null : Math.round(this.queueMs),
    };
  }

  private countArrival(arrivalMs: number, bytes: number): void {
    const last = this.window.at(-1);
    // The receiver's clock went back: the window's arrivals are on another clock.
    if (last && arrivalMs < last.arrivalMs - this.rateWindowMs) (this.window.length = 0), (this.windowBytes = 0);
    this.window.push({ arrivalMs, bytes });
    this.windowBytes += bytes;
    if (this.window.length > this.maxWindowPackets) this.windowBytes -= this.window.shift()!.bytes;
  }

  private prune(nowMs: number): void {
    while (this.window.length > 0 && this.window[0]!.arrivalMs < nowMs - this.rateWindowMs) this.windowBytes -= this.window.shift()!.bytes;
  }
}
