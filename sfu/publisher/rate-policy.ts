/**
 * The publisher's bitrate cap from three sources: the configured bitrate, the server's
 * `rate-target` and the receiver's REMB estimate (draft-alvestrand-rmcat-remb-03). A changed cap
 * restarts the encoder (a keyframe), so REMB, which arrives about once a second and wobbles, raises
 * the cap only when it moves it up by more than `hysteresis` (default 15%); a lower estimate
 * applies once it is more than `decreaseHysteresis` (default 5%) under the cap, because since the
 * server runs GCC's delay-based estimate a REMB under the cap says the link carries less than
 * that: with a 15% band a cap 13% over a 300 kbps link stayed there and the queue overflowed
 * (devibench/network/rate-loop.test.ts). The server's explicit target always applies at once. REMB below `minRembBps` counts as `minRembBps`, so one low
 * estimate during start-up cannot starve the stream.
 *
 * Pure: no clock needed.
 */
export interface BitrateCapOptions {
  readonly hysteresis?: number;
  readonly decreaseHysteresis?: number;
  readonly minRembBps?: number;
}

export class BitrateCap {
  private serverBps: number | null = null;
  private rembBps: number | null = null;
  private applied: number;
  private readonly hysteresis: number;
  private readonly decreaseHysteresis: number;
  private readonly minRembBps: number;

  constructor(
    readonly configuredBps: number,
    options: BitrateCapOptions = {},
  ) {
    this.hysteresis = options.hysteresis ?? 0.15;
    this.decreaseHysteresis = options.decreaseHysteresis ?? 0.05;
    this.minRembBps = options.minRembBps ?? 50_000;
    this.applied = configuredBps;
  }

  /** The cap in force (bits per second). */
  get capBps(): number {
    return this.applied;
  }

  get remb(): number | null {
    return this.rembBps;
  }

  /** The server's cap (null = none). True when the cap in force changed. */
  setServerCap(bps: number | null): boolean {
    this.serverBps = bps;
    return this.apply(this.candidate());
  }

  /** A REMB estimate. True when the cap in force changed; one that is no number >= 0 is ignored. */
  setRemb(bps: number): boolean {
    // REMB carries no sequence number or time (draft-alvestrand-rmcat-remb-03 §2.2): the newest
    // one received is the estimate, whatever order the receiver sent them in. Only a value that
    // is no bitrate at all is refused, so the cap can never become NaN.
    if (!(bps >= 0)) return false;
    this.rembBps = Math.max(this.minRembBps, bps);
    const c = this.candidate();
    const band = c < this.applied ? this.decreaseHysteresis : this.hysteresis;
    if (Math.abs(c - this.applied) <= band * this.applied) return false;
    return this.apply(c);
  }

  private candidate(): number {
    return Math.min(this.configuredBps, this.serverBps ?? Infinity, this.rembBps ?? Infinity);
  }

  private apply(c: number): boolean {
    if (c === this.applied) return false;
    this.applied = c;
    return true;
  }
}
