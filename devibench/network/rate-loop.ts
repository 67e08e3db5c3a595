/**
 * The rate control loop of a live call, for the network benchmark's simulation: what the call
 * server and the headless publisher do, with the same parts.
 *
 * Receiver (the call server): GCC's delay-based estimate on every packet's send and arrival time
 * (sfu/media/gcc, draft-ietf-rmcat-gcc-02 §5) and the loss-based one from the packets lost each
 * second (sfu/call/link-rate.ts, §6; loss cuts only when a queue stood, `lossIsCongestion`); the lower of the two goes back as REMB once a second, and at
 * once when it fell by 3% or more (§5.6), as the call server's `onDelayEstimateDrop` does.
 *
 * Sender (the publisher): the REMB caps its bitrate through the publisher's own `BitrateCap`
 * (15% hysteresis: a change restarts the encoder); the encoder gets the cap's media share (the
 * rest is parity), a restart at most every 500 ms (the live encoder's `RestartGate`); the pacer
 * paces at its factor times the cap; with a congestion window (sfu/media/gcc/congestion-window.ts)
 * a frame captured while the bytes in flight fill it is not encoded. Before the clip, the sender warms the loop up with padding
 * at the cap, so a clip starts from the estimate a call would have by then, not from the
 * configured rate. Pure: the simulation passes the clock.
 */
import { LinkRateController, lossIsCongestion } from "../../sfu/call/link-rate.ts";
import { DelayBasedEstimator } from "../../sfu/media/gcc/delay-based.ts";
import { BitrateCap } from "../../sfu/publisher/rate-policy.ts";
import { CongestionWindow } from "../../sfu/media/gcc/congestion-window.ts";

export interface RateLoopOptions {
  /** The configured bitrate: the sender's ceiling and the estimate's start. */
  readonly maxBps: number;
  /** The lowest the estimates go. Default 100 kbps (the call server's floor). */
  readonly minBps?: number;
}

/** The call server's side: both estimates and when to send REMB. */
export class ReceiverRate {
  readonly delay: DelayBasedEstimator;
  readonly loss: LinkRateController;
  private toldBps: number | null = null;
  private toldMs = -Infinity;

  constructor(o: RateLoopOptions) {
    const minBps = Math.min(o.minBps ?? 100_000, o.maxBps);
    this.delay = new DelayBasedEstimator({ minBps, maxBps: o.maxBps, startBps: o.maxBps });
    this.loss = new LinkRateController({ minBps, maxBps: o.maxBps });
  }

  /** One packet that arrived (media, parity, padding alike). */
  onPacket(sentMs: number, arrivalMs: number, bytes: number, rttMs: number): void {
    this.delay.onPacket(sentMs, arrivalMs, bytes, rttMs);
  }

  /** Cumulative packets lost and received on the link, as receiver reports count them. */
  onCounts(lost: number, received: number, nowMs: number): void {
    this.loss.update(lost, received, nowMs, lossIsCongestion(this.delay.takeMaxQueueMs()));
  }

  get estimateBps(): number {
    return Math.min(this.delay.estimateBps, this.loss.bitrateBps);
  }

  /** The REMB to send now, or null: once a second, or at once after a fall of 3% or more. */
  remb(nowMs: number): number | null {
    const bps = Math.round(this.estimateBps);
    const fell = this.toldBps !== null && bps <= 0.97 * this.toldBps;
    if (!fell && nowMs - this.toldMs < 1000) return null;
    this.toldBps = bps;
    this.toldMs = nowMs;
    return bps;
  }
}

/** The publisher's side: its cap from REMB, and when the encoder may restart at a new rate. */
export class SenderRate {
  readonly cap: BitrateCap;
  /** Bytes in flight from transport feedback; null: the sender does not drop frames for it. */
  readonly window: CongestionWindow | null;
  private lastRestartMs = -Infinity;
  private encoderBps: number;
  restarts = 0;

  constructor(
    configuredBps: number,
    /** The encoder's bitrate for a cap (what the parity leaves). */
    private readonly mediaBps: (capBps: number) => number,
    private readonly minRestartIntervalMs = 500,
    window: CongestionWindow | null = null,
  ) {
    this.cap = new BitrateCap(configuredBps);
    this.window = window;
    this.encoderBps = mediaBps(configuredBps);
  }

  onRemb(bps: number): void {
    this.cap.setRemb(bps);
  }

  /**
   * The encoder's bitrate for a frame captured now: the cap's media share, changed only when the
   * restart gate allows (a change is an encoder restart, a keyframe).
   */
  encoderBitrate(nowMs: number): number {
    const want = this.mediaBps(this.cap.capBps);
    if (want !== this.encoderBps && nowMs - this.lastRestartMs >= this.minRestartIntervalMs) {
      this.encoderBps = want;
      this.lastRestartMs = nowMs;
      this.restarts++;
    }
    return this.encoderBps;
  }

  /** Whether a frame captured now goes to the encoder: not while the congestion window is full. */
  admitsFrame(rttMs: number, nowMs: number): boolean {
    return this.window === null || this.window.admits(this.cap.capBps, rttMs, nowMs);
  }
}
