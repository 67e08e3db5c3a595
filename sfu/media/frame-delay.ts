/**
 * Frame delay as the MLLM sees it: for every frame, from its capture until a picture of it, or of
 * a later frame, is available. A frame that never becomes available (lost at its deadline, skipped
 * because its references are gone) counts until the next good frame is available: that is how long
 * the MLLM is left with an older picture.
 *
 * Capture times are RTP media times (RFC 3550 §5.1), whose offset to our clock is unknown without
 * sender reports, so delays are measured above the fastest frame seen (the smallest
 * availableMs - captureMs): what waiting (for retransmissions, deadlines, keyframes) adds on top of
 * transit and decoding. Frames whose capture time is unknown (every packet lost) are counted, not
 * timed.
 *
 * Pure: times are arguments.
 */
import { percentile, RecentValues } from "./stats-window.ts";

export interface FrameDelayStats {
  /** Over the last `keep` frames: delay above the fastest frame, ms. */
  readonly p50: number | undefined;
  readonly p95: number | undefined;
  readonly samples: number;
  /** Frames that never became available and were timed until the next good one. */
  readonly framesWaitedForNext: number;
}

export class FrameDelay {
  private baseOffsetMs = Infinity;
  private readonly delays: RecentValues;
  /** Capture times of frames that will not be available, waiting for the next good frame. */
  private waiting: number[] = [];
  private waited = 0;

  constructor(keep = 300) {
    this.delays = new RecentValues(keep);
  }

  /** A frame captured at `captureMs` (media time) is available to the MLLM at `availableMs`. */
  good(captureMs: number, availableMs: number): void {
    const offset = availableMs - captureMs;
    this.baseOffsetMs = Math.min(this.baseOffsetMs, offset);
    // Dropped frames captured before this one were covered by it from now on.
    const still: number[] = [];
    for (const c of this.waiting) {
      if (c < captureMs) {
        this.delays.push(availableMs - c - this.baseOffsetMs);
        this.waited++;
      } else still.push(c);
    }
    this.waiting = still;
    this.delays.push(offset - this.baseOffsetMs);
  }

  /** A frame captured at `captureMs` will never be available (lost, skipped, refused by the decoder). */
  dropped(captureMs: number): void {
    if (this.waiting.length < 1000) this.waiting.push(captureMs);
  }

  stats(): FrameDelayStats {
    const v = this.delays.values;
    return { p50: percentile(v, 50), p95: percentile(v, 95), samples: v.length, framesWaitedForNext: this.waited };
  }
}
