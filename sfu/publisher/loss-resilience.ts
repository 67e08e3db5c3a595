/**
 * What the publisher does about loss when the receiver will not repair it. The answer tells: a
 * server that declined generic NACK (RFC 4585 §4.2; sfu/call/sdp-feedback.ts) runs the resilient
 * receive policy, so a lost packet loses its frame for good. With VP8 and H.264 a lost delta frame
 * breaks every later frame until a keyframe, and at 10% packet loss nearly every multi-packet
 * chain breaks within a few frames; so on a lossy link every frame is sent as a keyframe
 * (intra-only). At the low frame rates the AI needs (the server's frame-rate target, 5-15 fps),
 * each frame then stands alone: a lost one costs itself, the next one repairs the picture, and the
 * server's frame-rate target (sfu/media/frame-rate-target.ts) counts on exactly that. On a clean
 * link the configured keyframe interval stays, since intra-only frames cost bits for nothing there,
 * and a keyframe request (PLI) repairs a rare break.
 *
 * The loss comes from RTCP receiver reports (fraction lost, RFC 3550 §6.4.1, one every 0.5-1.5 s
 * from werift), smoothed; intra-only starts when the smoothed loss reaches `enterLoss` and ends
 * after it stayed below `leaveLoss` for `holdMs` (each switch restarts the encoder: a keyframe).
 * With retransmissions negotiated (a classic receiver) nothing changes. Nor with per-frame FEC
 * negotiated (the server took the parity stream, peer.ts): the parity repairs what is lost, so the
 * configured keyframe interval stays; the smoothed loss is still tracked, since it sets how many
 * parity packets each frame gets (fec-budget.ts). Intra-only is the fallback for a server that
 * repairs nothing at all.
 *
 * Pure: the clock is an argument.
 */
export interface LossResilienceOptions {
  /** Smoothed loss fraction at which every frame becomes a keyframe. Default 0.01. */
  readonly enterLoss?: number;
  /** Below this for `holdMs`, the configured keyframe interval comes back. Default 0.002. */
  readonly leaveLoss?: number;
  /** Default 5000 ms. */
  readonly holdMs?: number;
  /** Weight of a new report in the smoothed loss. Default 0.3. */
  readonly alpha?: number;
}

export class LossResilience {
  private smoothed: number | null = null;
  private intra = false;
  private cleanSinceMs: number | null = null;
  private readonly enterLoss: number;
  private readonly leaveLoss: number;
  private readonly holdMs: number;
  private readonly alpha: number;

  /**
   * @param retransmissions whether the receiver negotiated generic NACK (a classic receiver).
   * @param fec whether the receiver took the per-frame FEC parity stream.
   */
  constructor(readonly retransmissions: boolean, options: LossResilienceOptions = {}, readonly fec = false) {
    this.enterLoss = options.enterLoss ?? 0.01;
    this.leaveLoss = options.leaveLoss ?? 0.002;
    this.holdMs = options.holdMs ?? 5000;
    this.alpha = options.alpha ?? 0.3;
    for (const [k, v] of Object.entries({ enterLoss: this.enterLoss, leaveLoss: this.leaveLoss, alpha: this.alpha })) {
      if (!(v > 0 && v <= 1)) throw new RangeError(`${k} must be in (0, 1], got ${v}`);
    }
    if (!(this.leaveLoss <= this.enterLoss)) throw new RangeError(`leaveLoss (${this.leaveLoss}) must not exceed enterLoss (${this.enterLoss})`);
    if (!(this.holdMs >= 0)) throw new RangeError(`holdMs must be >= 0, got ${this.holdMs}`);
  }

  /** True while every frame should be a keyframe. */
  get intraOnly(): boolean {
    return this.intra;
  }

  /** The smoothed loss fraction (null before the first report). */
  get lossRate(): number | null {
    return this.smoothed;
  }

  /** A receiver report's fraction lost (0..1). Returns true when `intraOnly` changed. */
  onReceiverReport(fractionLost: number, nowMs: number): boolean {
    if (!(fractionLost >= 0 && fractionLost <= 1)) throw new RangeError(`fractionLost must be in [0, 1], got ${fractionLost}`);
    this.smoothed = this.smoothed === null ? fractionLost : this.alpha * fractionLost + (1 - this.alpha) * this.smoothed;
    if (this.retransmissions || this.fec) return false;
    if (!this.intra) {
      if (this.smoothed < this.enterLoss) return false;
      this.intra = true;
      this.cleanSinceMs = null;
      return true;
    }
    if (this.smoothed >= this.leaveLoss) {
      this.cleanSinceMs = null;
      return false;
    }
    this.cleanSinceMs ??= nowMs;
    if (nowMs - this.cleanSinceMs < this.holdMs) return false;
    this.intra = false;
    this.cleanSinceMs = null;
    return true;
  }

  /**
   * Whether a keyframe request (PLI) needs an encoder restart: not while every frame is a
   * keyframe anyway (the next frame answers it, and a restart would only delay it).
   */
  keyframeRequestNeedsRestart(): boolean {
    return !this.intra;
  }
}
