/**
 * Frame dropping to reach a frame-rate target, decided per frame from its capture time. Keeps a
 * frame when its capture time reaches the next due time, then moves the due time on by one target
 * interval (not from the kept frame's own time), so the long-run rate is the target even when the
 * source's frames do not line up with it (30 -> 7 fps keeps 7 a second, unevenly spaced, as
 * WebRTC's frame-rate adapter does). After a gap of more than one interval the schedule restarts
 * from the next frame, so a stall is not followed by a burst. Frames may come up to a fifth of an
 * interval early; the due time still moves by whole intervals, so that does not raise the rate.
 *
 * Pure: the clock is the frames' capture times.
 */
const EARLY_FRACTION = 0.2;

export class FrameRateLimiter {
  private intervalMs: number;
  private nextDueMs: number | null = null;

  /** @param maxFps target in frames per second; Infinity or null keeps every frame. */
  constructor(maxFps: number | null = null) {
    this.intervalMs = FrameRateLimiter.interval(maxFps);
  }

  private static interval(maxFps: number | null): number {
    if (maxFps === null || maxFps === Infinity) return 0;
    if (!(maxFps > 0) || !Number.isFinite(maxFps)) throw new RangeError(`maxFps must be > 0, got ${maxFps}`);
    return 1000 / maxFps;
  }

  get maxFps(): number {
    return this.intervalMs === 0 ? Infinity : 1000 / this.intervalMs;
  }

  /** Changes the target; the next frame is kept and the new schedule starts from it. */
  setMaxFps(maxFps: number | null): void {
    const interval = FrameRateLimiter.interval(maxFps);
    if (interval !== this.intervalMs) this.nextDueMs = null;
    this.intervalMs = interval;
  }

  /** True to keep the frame captured at `captureMs` (times must not go backwards). */
  admit(captureMs: number): boolean {
    if (this.intervalMs === 0) return true;
    if (this.nextDueMs === null || captureMs - this.nextDueMs >= this.intervalMs) {
      this.nextDueMs = captureMs + this.intervalMs;
      return true;
    }
    // Capture times jitter (pipes, scheduling): a frame up to a fifth of an interval early still
    // counts, else a 30 fps source held to 30 fps would lose every frame that came a little early.
    if (captureMs >= this.nextDueMs - EARLY_FRACTION * this.intervalMs) {
      this.nextDueMs += this.intervalMs;
      return true;
    }
    return false;
  }
}
