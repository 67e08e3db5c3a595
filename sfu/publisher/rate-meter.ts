/**
 * Sent bitrate and frame rate over a sliding window (default the last second). Pure: every call
 * takes the time.
 */
export class RateMeter {
  private readonly samples: Array<{ atMs: number; bytes: number }> = [];
  private bytesInWindow = 0;

  constructor(readonly windowMs = 1000) {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
  }

  add(bytes: number, nowMs: number): void {
    this.samples.push({ atMs: nowMs, bytes });
    this.bytesInWindow += bytes;
    this.trim(nowMs);
  }

  /** Bits per second over the window ending at `nowMs`. */
  bitrateBps(nowMs: number): number {
    this.trim(nowMs);
    return (this.bytesInWindow * 8 * 1000) / this.windowMs;
  }

  /** Frames (samples) per second over the window ending at `nowMs`. */
  framerate(nowMs: number): number {
    this.trim(nowMs);
    return (this.samples.length * 1000) / this.windowMs;
  }

  private trim(nowMs: number): void {
    while (this.samples.length > 0 && this.samples[0]!.atMs <= nowMs - this.windowMs) {
      this.bytesInWindow -= this.samples.shift()!.bytes;
    }
  }
}
