/**
 * Rate limit for encoder restarts. A new region map or bitrate is baked into the encoder process's
 * arguments (`addroi` is static per filter graph; ffmpeg's CLI cannot retune x264 or libvpx), so a
 * change restarts the encoder, and each restart costs a keyframe. At most one restart per
 * `minIntervalMs`; requests in between collapse into one restart at the end of the interval, which
 * applies whatever is current then (the latest request wins).
 *
 * Pure: the shell passes the time in and owns the timer.
 */
export type GateDecision =
  /** Restart now. */
  | { readonly kind: "now" }
  /** Wait until `atMs`, then call `due`; `schedule` is false when a timer for it is already set. */
  | { readonly kind: "later"; readonly atMs: number; readonly schedule: boolean };

export class RestartGate {
  private lastMs: number | null = null;
  private pendingAtMs: number | null = null;

  constructor(readonly minIntervalMs = 500) {
    if (!(minIntervalMs >= 0)) throw new RangeError(`minIntervalMs must be >= 0, got ${minIntervalMs}`);
  }

  /** A restart is wanted at `nowMs`. */
  request(nowMs: number): GateDecision {
    if (this.pendingAtMs !== null) return { kind: "later", atMs: this.pendingAtMs, schedule: false };
    if (this.lastMs === null || nowMs - this.lastMs >= this.minIntervalMs) {
      this.lastMs = nowMs;
      return { kind: "now" };
    }
    this.pendingAtMs = this.lastMs + this.minIntervalMs;
    return { kind: "later", atMs: this.pendingAtMs, schedule: true };
  }

  /** The timer fired: true when the pending restart should happen now. */
  due(nowMs: number): boolean {
    if (this.pendingAtMs === null || nowMs < this.pendingAtMs) return false;
    this.pendingAtMs = null;
    this.lastMs = nowMs;
    return true;
  }

  /** A restart that happened for another reason (e.g. the first start) counts too. */
  noteRestart(nowMs: number): void {
    this.lastMs = nowMs;
  }

  get pending(): boolean {
    return this.pendingAtMs !== null;
  }

  /** Drops a pending restart (on close). */
  cancel(): void {
    this.pendingAtMs = null;
  }
}
