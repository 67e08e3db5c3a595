/**
 * What the server observes on the link, turned into a bitrate ceiling: loss-based control after
 * Google Congestion Control's loss controller (draft-ietf-rmcat-gcc-02 §6): with more than 10%
 * loss the rate drops by half the loss fraction, below 2% it grows by 5%, between it holds.
 * Loss is lost / (lost + good) over each interval, from whatever cumulative counters the caller
 * passes: the call server passes packets seen missing before any retransmission and the rest, as
 * GCC counts them (frames were used before; under the resilient policy frames are dropped on
 * purpose, which is no measure of the link). Pure: the caller passes the counters and the clock.
 *
 * The draft counts every loss as congestion. A caller that knows the queue (the delay-based
 * estimate's standing queue, sfu/media/gcc) passes `congested: false` when there is none: loss on
 * a link whose queue is empty is random (radio) loss, which the per-frame FEC and the resilient
 * receive path are there to absorb, and cutting the rate for it took half the bits at 15% loss
 * (bench:network loss15-rtt150: resilient 85% read against 92% at the fixed rate). Then a loss
 * over 10% holds the rate instead of cutting it; the 2% rule for growing is unchanged.
 */
/** A queue this much over the base delay (ms) makes a loss count as congestion. */
export const CONGESTION_QUEUE_MS = 30;

/**
 * Whether an interval's loss counts as congestion, from the highest standing queue the delay-based
 * estimate saw over it: unknown (no estimate, e.g. a sender without abs-send-time) counts as
 * congestion, as the draft has it.
 */
export function lossIsCongestion(maxQueueMs: number | null): boolean {
  return maxQueueMs === null || maxQueueMs > CONGESTION_QUEUE_MS;
}

export interface LinkRateOptions {
  readonly minBps: number;
  readonly maxBps: number;
  /** At most one step per interval. Default 1000 ms. */
  readonly intervalMs?: number;
}

export class LinkRateController {
  private estimateBps: number;
  private lastMs: number | null = null;
  private lastLost = 0;
  private lastGood = 0;

  constructor(private readonly o: LinkRateOptions) {
    if (!(o.minBps > 0 && o.maxBps >= o.minBps)) throw new RangeError(`need 0 < minBps <= maxBps, got ${o.minBps}, ${o.maxBps}`);
    this.estimateBps = o.maxBps;
  }

  get bitrateBps(): number {
    return this.estimateBps;
  }

  /**
   * Feeds cumulative lost and good counts (packets or frames); returns the (possibly new) ceiling.
   * `congested`: whether a queue stood on the link over the interval (default true: unknown).
   */
  update(lostCount: number, goodCount: number, nowMs: number, congested = true): number {
    if (this.lastMs === null) {
      [this.lastMs, this.lastLost, this.lastGood] = [nowMs, lostCount, goodCount];
      return this.estimateBps;
    }
    if (nowMs - this.lastMs < (this.o.intervalMs ?? 1000)) return this.estimateBps;
    const lost = Math.max(0, lostCount - this.lastLost);
    const good = Math.max(0, goodCount - this.lastGood);
    [this.lastMs, this.lastLost, this.lastGood] = [nowMs, lostCount, goodCount];
    if (lost + good === 0) return this.estimateBps;
    const loss = lost / (lost + good);
    if (loss > 0.1 && congested) this.estimateBps *= 1 - 0.5 * loss;
    else if (loss < 0.02) this.estimateBps *= 1.05;
    this.estimateBps = Math.min(this.o.maxBps, Math.max(this.o.minBps, this.estimateBps));
    return this.estimateBps;
  }
}
