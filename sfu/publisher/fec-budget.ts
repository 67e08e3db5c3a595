/**
 * The publisher's bitrate split when it protects every frame with FEC parity (peer.ts,
 * encoder/rtp/frame-fec.ts). The cap (configured, the server's rate target, REMB; rate-policy.ts)
 * is for everything sent, media and parity together, so the encoder gets only the media share.
 *
 * Arithmetic (encoder/rtp/frame-fec.ts `fecMediaShare`, the same the server's frame-rate target
 * assumes): at a cap of C bps and f fps, with media share s, a frame has C * s / (8 f) bytes, i.e.
 * k = ceil(C * s / (8 f * 1200)) packets of at most 1200 payload bytes, and it gets
 * m = parityFor(k, loss) parity packets, each as long as the frame's longest packet (about one
 * media packet). Media + parity is then media * (k + m) / k, so the share is the largest s (in
 * 0.01 steps) with s <= k / (k + m): the encoder runs at C * s, and media + parity stays at C.
 *
 *   600 kbps, 15 fps:  0 loss -> s = 1;  5% -> s = 0.6 (k = 3, m = 2);  10% -> s = 0.5 (k = 3, m = 3)
 *
 * Counting packets slightly undercounts the parity when the frame's last packet is short (a
 * parity packet is as long as a full one), and it is the typical frame, not every frame, that is
 * budgeted: a keyframe has more packets and relatively less parity.
 *
 * When it is recomputed: a new share changes the encoder's bitrate, and that restarts the encoder
 * (a keyframe; live-encoder.ts, restart-gate.ts), so never per frame. It is recomputed when the
 * cap or the frame rate changes (those restart the encoder anyway) and at each receiver report
 * (every 0.5-1.5 s), where a new smoothed loss changes the share only when it changes the typical
 * frame's k / (k + m). A smaller share (more loss) applies at once: too little parity loses frames.
 * A larger one (less loss) only when the loss raised by `margin` (default 25%) gives it too, so a
 * loss hovering at a step does not restart the encoder at every report.
 *
 * Pure.
 */
import { DEFAULT_RTP_MTU } from "../../encoder/rtp/vp8.ts";
import { fecMediaShare, parityFor } from "../../encoder/rtp/frame-fec.ts";

/** Loss rates above this are budgeted as this (parityFor needs < 1; no link worth sending on loses more). */
export const MAX_BUDGETED_LOSS = 0.5;
/** The most media packets one parity group can protect (frame-fec.ts: k, m <= 255, k + m <= 256). */
const MAX_PROTECTED_PACKETS = 255;

function clampLoss(lossRate: number | null): number {
  if (lossRate === null || !(lossRate > 0)) return 0;
  return Math.min(MAX_BUDGETED_LOSS, lossRate);
}

/**
 * Parity packets for one frame of `k` media packets at the smoothed loss (null before the first
 * receiver report: none). 0 for a frame too long for one parity group.
 */
export function parityForFrame(k: number, lossRate: number | null): number {
  const loss = clampLoss(lossRate);
  if (loss === 0 || k < 1 || k > MAX_PROTECTED_PACKETS) return 0;
  return parityFor(k, loss);
}

export interface FecBudget {
  /** Media + parity (bits per second). */
  readonly capBps: number;
  readonly fps: number;
  /** The loss it was computed for (clamped to [0, MAX_BUDGETED_LOSS]). */
  readonly lossRate: number;
  /** The encoder's share of the cap, (0, 1]. */
  readonly share: number;
  /** The encoder's bitrate: capBps * share, rounded down. */
  readonly mediaBps: number;
  /** The typical frame at that bitrate: media packets and parity packets. */
  readonly k: number;
  readonly m: number;
}

export function fecBudget(capBps: number, fps: number, lossRate: number | null, packetPayloadBytes = DEFAULT_RTP_MTU): FecBudget {
  if (!(capBps > 0 && Number.isFinite(capBps))) throw new RangeError(`capBps must be a finite number > 0, got ${capBps}`);
  if (!(fps > 0 && Number.isFinite(fps))) throw new RangeError(`fps must be a finite number > 0, got ${fps}`);
  const loss = clampLoss(lossRate);
  const share = fecMediaShare({ bitrateBps: capBps, fps, lossRate: loss, packetPayloadBytes });
  const mediaBps = Math.floor(capBps * share);
  const k = Math.max(1, Math.ceil(mediaBps / fps / (8 * packetPayloadBytes)));
  return { capBps, fps, lossRate: loss, share, mediaBps, k, m: parityForFrame(k, loss) };
}

/** `fecBudget` with the hysteresis above: remembers the budget in force. */
export class FecRateBudget {
  private cur: FecBudget | null = null;

  constructor(
    readonly margin = 0.25,
    readonly packetPayloadBytes = DEFAULT_RTP_MTU,
  ) {
    if (!(margin >= 0 && Number.isFinite(margin))) throw new RangeError(`margin must be a finite number >= 0, got ${margin}`);
  }

  /** The budget in force (null before the first update). */
  get current(): FecBudget | null {
    return this.cur;
  }

  /**
   * The budget for this cap, frame rate and smoothed loss; `changed` when the encoder's bitrate
   * (`budget.mediaBps`) differs from the one in force before.
   */
  update(capBps: number, fps: number, lossRate: number | null): { readonly budget: FecBudget; readonly changed: boolean } {
    const cur = this.cur;
    let next = fecBudget(capBps, fps, lossRate, this.packetPayloadBytes);
    if (cur && cur.capBps === capBps && cur.fps === fps && next.mediaBps > cur.mediaBps) {
      const raised = fecBudget(capBps, fps, clampLoss(lossRate) * (1 + this.margin), this.packetPayloadBytes);
      if (raised.mediaBps <= cur.mediaBps) next = cur;
    }
    this.cur = next;
    return { budget: next, changed: cur === null || next.mediaBps !== cur.mediaBps };
  }
}
