/**
 * How the receive path answers loss: which sequence numbers to NACK, how long an incomplete frame
 * is waited for, and how often it may ask for a keyframe. The jitter buffer consults the policy;
 * the receive path turns the answers into RTCP (generic NACK, RFC 4585 §6.2.1; PLI, RFC 4585
 * §6.3.1) through the caller's callbacks, and the call server negotiates what the policy needs
 * (generic NACK only when it wants retransmissions).
 *
 * Two policies behind one port:
 *  - "classic", what a WebRTC receiver does: NACK every gap, wait for the retransmission until the
 *    frame's deadline, ask for a keyframe when the chain broke.
 *  - "resilient", for AI-bound video (Artic, "Chat with AI: The Surprising Turn of Real-time Video
 *    Communication from Human to AI", arXiv 2507.10510, Loss-Resilient Adaptive Frame Rate): no
 *    retransmission at all; a frame with a gap is given up as soon as reordering can no longer fill
 *    it, and the previous good frame stands in for the MLLM (frame-store.ts). Keyframe requests
 *    stay, rate-limited. The frame rate that makes substitution cheap is in frame-rate-target.ts.
 *
 * Pure: the clock is an argument.
 */

export interface LossResponse {
  /** Sequence numbers to NACK now. */
  readonly nack: number[];
}

/** What the jitter buffer knows of a pending frame when it asks for its deadline. */
export interface PendingFrameTimes {
  readonly firstArrivalMs: number;
  readonly lastArrivalMs: number;
  /**
   * First time, while the frame was pending, that a gap in the sequence numbers was seen or a
   * packet of a later frame arrived: from then on its missing packets can only come by reordering
   * or retransmission. Undefined while its packets still arrive in order. A gap just before the
   * frame's own first packet, when that packet surely starts a frame, belongs to the frames before
   * it and does not mark this one.
   */
  readonly lossSuspectedMs: number | undefined;
  /**
   * The frame's temporal layer (VP8 payload descriptor TID, RFC 7741 §4.2), when the sender
   * sends temporal layers (a browser with `scalabilityMode` L1T2/L1T3); undefined otherwise.
   */
  readonly temporalId?: number;
}

export type ReceivePolicyName = "classic" | "resilient" | "layered";

export interface ReceivePolicy {
  /** Short name for logs, metrics and reports. */
  readonly name: ReceivePolicyName | (string & {});
  /**
   * Whether lost packets may be retransmitted: the call server negotiates generic NACK
   * (`a=rtcp-fb:PT nack`, RFC 4585 §4.2) only when this is true.
   */
  readonly retransmissions: boolean;
  /**
   * Called once for each run of sequence numbers found missing when a later packet arrives
   * (`seqs` in order, already wrapped to 16 bits).
   */
  onLoss(seqs: readonly number[], nowMs: number): LossResponse;
  /** Keyframe requests are sent at most once per this many milliseconds. */
  readonly keyframeRequestIntervalMs: number;
  /**
   * Ask for a keyframe as soon as a frame is lost (true), or only once a frame arrives that cannot
   * be decoded without the lost one (false: a sender that sends every frame as a keyframe is
   * never asked). Requests from the decoder (restart, refused frame) go out either way.
   */
  readonly keyframeRequestOnLoss: boolean;
  /**
   * When an incomplete frame is given up (ms on the buffer's clock). `maxWaitMs` is the buffer's
   * cap: no frame is held longer than that after its newest packet (see pacedFrameCap).
   */
  frameDeadlineMs(frame: PendingFrameTimes, maxWaitMs: number): number;
}

export interface ClassicPolicyOptions {
  /** Default 500 ms: at most two PLIs a second, so a lost PLI is repeated but the sender is not flooded. */
  readonly keyframeRequestIntervalMs?: number;
  /** A gap larger than this is a stream discontinuity, not loss worth retransmitting. Default 512. */
  readonly maxNackRun?: number;
}

/** How many recently NACKed sequence numbers the classic policy remembers to NACK each only once. */
const NACK_MEMORY = 2048;

/** No frame is held longer than this many `maxWaitMs` after its first packet, however slowly it trickles in. */
const PACED_FRAME_LIMIT = 20;

/**
 * The wait cap counts from the frame's newest packet, not its first: a sender's pacer spreads a
 * large frame over time (libwebrtc paces at 2.5x the target rate, so a 40 KB keyframe under a
 * 160 kbps cap takes about 0.8 s), and a frame whose packets are still coming in order is not lost.
 * Counting from the first packet gave up on every keyframe of a browser sending at a low cap, which
 * then asked for another keyframe, for ever. A frame that trickles in is still given up
 * `PACED_FRAME_LIMIT * maxWaitMs` after its first packet.
 */
function pacedFrameCap(f: PendingFrameTimes, maxWaitMs: number): number {
  return Math.min(f.lastArrivalMs + maxWaitMs, f.firstArrivalMs + PACED_FRAME_LIMIT * maxWaitMs);
}

function checkInterval(name: string, v: number): void {
  if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
}

/**
 * Classic: NACK every missing sequence number once (RFC 4585 §6.2.1 generic NACK; no repeats,
 * unlike libwebrtc, which retries until the RTT-based deadline), wait for a frame until
 * `maxWaitMs` after its newest packet, and rate-limit keyframe requests.
 */
export function classicPolicy(options: ClassicPolicyOptions = {}): ReceivePolicy {
  const keyframeRequestIntervalMs = options.keyframeRequestIntervalMs ?? 500;
  const maxNackRun = options.maxNackRun ?? 512;
  checkInterval("keyframeRequestIntervalMs", keyframeRequestIntervalMs);
  const sent = new Set<number>();
  const order: number[] = [];
  return {
    name: "classic",
    retransmissions: true,
    keyframeRequestIntervalMs,
    keyframeRequestOnLoss: true,
    onLoss(seqs) {
      if (seqs.length > maxNackRun) return { nack: [] };
      const nack = seqs.filter((s) => !sent.has(s));
      for (const s of nack) {
        sent.add(s);
        order.push(s);
        if (order.length > NACK_MEMORY) sent.delete(order.shift()!);
      }
      return { nack };
    },
    frameDeadlineMs: (f, maxWaitMs) => pacedFrameCap(f, maxWaitMs),
  };
}

export interface ResilientPolicyOptions {
  /**
   * Default 500 ms. With intra-only frames (what the publisher sends on a lossy link without
   * retransmission) the next frame repairs the chain by itself; the request matters only with
   * longer keyframe intervals, where asking more often than an encoder restart plus a round trip
   * takes would only buy a second keyframe.
   */
  readonly keyframeRequestIntervalMs?: number;
  /**
   * How long a gap may stay open before the frame is given up. Without retransmission only
   * reordering can fill it; default 20 ms, or `FEC_REORDER_WINDOW_MS` with `fec`.
   */
  readonly reorderWindowMs?: number;
  /**
   * The sender protects each frame with parity packets (encoder/rtp/frame-fec.ts), which come
   * after the frame's last media packet on their own SSRC: a gap may still be filled by a repair
   * until the rest of the frame and its parity have arrived, so the default window is
   * `FEC_REORDER_WINDOW_MS` instead of 20 ms.
   */
  readonly fec?: boolean;
  /**
   * How long a frame whose packets still arrive in order (no gap, no later frame yet) is waited
   * for after its newest packet, when that is longer than the buffer's `maxWaitMs`. Default
   * 1000 ms. Nothing newer has arrived, so giving such a frame up shows the model nothing sooner,
   * and with long-GOP frames it breaks the chain until a keyframe: on the Verizon LTE trace
   * (bench:network, 10 fps, 600 kbps) a 100 ms cap gave up 7 frames whose packets all came,
   * cost 7 keyframe requests and left 7.4% of frames unshown (p95 431 ms); 1 s: none (p95 216 ms).
   */
  readonly inOrderWaitMs?: number;
}

/**
 * How long a gap may stay open when the sender sends per-frame FEC, counted from the frame's
 * newest packet while its packets still come (`resilientPolicy`): the parity of a frame trails its
 * last media packet, a few packets at libwebrtc's 2.5x pacing, so 80 ms covers it however long the
 * frame itself takes to pace out (a keyframe can take 260 ms).
 * Measured in bench:network (10% loss, 15 fps long GOP): a 20 ms window gave up frames whose repair was on
 * its way (18.3% not shown), 80 ms kept them (0.7%).
 */
export const FEC_REORDER_WINDOW_MS = 80;

/**
 * Resilient: never NACK; give a frame up `reorderWindowMs` after its loss became visible (a gap,
 * or the next frame started), or at the buffer's `maxWaitMs` cap, whichever comes first. A frame
 * whose packets still arrive in order on a slow link is not cut short: it is waited for up to
 * `inOrderWaitMs` after its newest packet.
 * A keyframe is requested only when a frame arrives that the loss made undecodable: with the
 * intra-only frames a publisher sends on a lossy link, never.
 */
export function resilientPolicy(options: ResilientPolicyOptions = {}): ReceivePolicy {
  const keyframeRequestIntervalMs = options.keyframeRequestIntervalMs ?? 500;
  const fec = options.fec ?? false;
  const reorderWindowMs = options.reorderWindowMs ?? (fec ? FEC_REORDER_WINDOW_MS : 20);
  const inOrderWaitMs = options.inOrderWaitMs ?? 1000;
  checkInterval("inOrderWaitMs", inOrderWaitMs);
  checkInterval("keyframeRequestIntervalMs", keyframeRequestIntervalMs);
  checkInterval("reorderWindowMs", reorderWindowMs);
  return {
    name: "resilient",
    retransmissions: false,
    keyframeRequestIntervalMs,
    keyframeRequestOnLoss: false,
    onLoss: () => ({ nack: [] }),
    frameDeadlineMs(f, maxWaitMs) {
      if (f.lossSuspectedMs === undefined) return pacedFrameCap(f, Math.max(maxWaitMs, inOrderWaitMs));
      // With FEC the frame's parity comes after its last media packet: while its own packets are
      // still coming, the window counts from the newest of them. From the gap alone, a keyframe
      // paced out over more than the window (40 packets at 2.5x a 340 kbps cap: 260 ms) was given
      // up before its parity came, the keyframe it asked for met the same fate, and at 10% loss
      // one clip never showed a frame for 4 s (bench:network, baseline, 8 keyframes in a row).
      const from = fec ? Math.max(f.lossSuspectedMs, f.lastArrivalMs) : f.lossSuspectedMs;
      return Math.min(pacedFrameCap(f, maxWaitMs), from + reorderWindowMs);
    },
  };
}

export interface LayeredPolicyOptions extends ClassicPolicyOptions {
  /** How long an upper-layer frame with a gap waits for reordering before it is given up. Default 20 ms. */
  readonly reorderWindowMs?: number;
}

/**
 * Layered, for a sender that sends temporal layers (Chromium with `scalabilityMode` L1T3, VP8):
 * retransmission only for what later frames need. The base layer (TID 0) is classic: NACK, wait
 * up to `maxWaitMs`, a keyframe request when its chain breaks. A frame of an upper layer is waited
 * for only `reorderWindowMs` once its loss is visible, then given up: no later frame of a lower
 * layer references it (RFC 7741 §4.2 TID, and the layer sync bit Y for the ones that reference the
 * base layer alone), so the jitter buffer skips the frames that did depend on it until the layer
 * resyncs, and asks for no keyframe (jitter-buffer.ts). libwebrtc's receiver finds the same
 * references (modules/video_coding/rtp_vp8_ref_finder.cc) but waits for every frame.
 * Frames without a temporal layer are all base layer: classic.
 */
export function layeredPolicy(options: LayeredPolicyOptions = {}): ReceivePolicy {
  const classic = classicPolicy(options);
  const reorderWindowMs = options.reorderWindowMs ?? 20;
  checkInterval("reorderWindowMs", reorderWindowMs);
  return {
    ...classic,
    name: "layered",
    frameDeadlineMs(f, maxWaitMs) {
      const cap = pacedFrameCap(f, maxWaitMs);
      if (f.temporalId === undefined || f.temporalId === 0 || f.lossSuspectedMs === undefined) return cap;
      return Math.min(cap, f.lossSuspectedMs + reorderWindowMs);
    },
  };
}

/** The policy of that name with its defaults; a clear error for any other name. */
export function receivePolicyByName(name: string): ReceivePolicy {
  if (name === "classic") return classicPolicy();
  if (name === "resilient") return resilientPolicy();
  if (name === "layered") return layeredPolicy();
  throw new RangeError(`receive policy must be "resilient", "classic" or "layered", got ${JSON.stringify(name)}`);
}
