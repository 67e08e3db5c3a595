/**
 * Small pure helpers for receive statistics: a sliding-window sum (bitrate, frame rate), a bounded
 * list of recent values, an RTP timestamp unwrapper, and nearest-rank percentiles.
 */
import { VIDEO_CLOCK_RATE } from "../../encoder/rtp/index.ts";

/** Sum and count of values added within the last `windowMs` (times must not go backwards much). */
export class SlidingWindow {
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  private total = 0;
  constructor(readonly windowMs: number) {}

  add(tMs: number, value = 1): void {
    this.times.push(tMs);
    this.values.push(value);
    this.total += value;
  }

  private prune(nowMs: number): void {
    while (this.times.length > 0 && this.times[0]! <= nowMs - this.windowMs) {
      this.times.shift();
      this.total -= this.values.shift()!;
    }
  }

  sum(nowMs: number): number {
    this.prune(nowMs);
    return this.total;
  }

  count(nowMs: number): number {
    this.prune(nowMs);
    return this.times.length;
  }
}

/** The last `cap` values pushed. */
export class RecentValues {
  private readonly items: number[] = [];
  constructor(readonly cap: number) {}
  push(v: number): void {
    this.items.push(v);
    if (this.items.length > this.cap) this.items.shift();
  }
  get values(): readonly number[] {
    return this.items;
  }
}

/** Nearest-rank percentile (p in 0..100) of the values; undefined when there are none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/**
 * RTP timestamps (32-bit, 90 kHz for video, RFC 3550 §5.1) to milliseconds of media time since the
 * first one seen, unwrapping across 2^32. Timestamps within 2^31 ticks (6.6 hours) of the previous
 * one count as near it, in either direction.
 */
export class RtpTimeline {
  private first: number | undefined;
  private last = 0;
  private unwrapped = 0;
  constructor(private readonly clockRate = VIDEO_CLOCK_RATE) {}

  toMs(rtpTimestamp: number): number {
    if (this.first === undefined) {
      this.first = rtpTimestamp;
      this.last = rtpTimestamp;
      return 0;
    }
    const delta = ((((rtpTimestamp - this.last) % 0x1_0000_0000) + 0x1_8000_0000) % 0x1_0000_0000) - 0x8000_0000;
    this.unwrapped += delta;
    this.last = rtpTimestamp;
    return (this.unwrapped * 1000) / this.clockRate;
  }
}
