/**
 * How the receive path answers loss: which sequence numbers to NACK and how often it may ask for a
 * keyframe. The jitter buffer consults the policy; the receive path turns the answers into RTCP
 * (generic NACK, RFC 4585 §6.2.1; PLI, RFC 4585 §6.3.1) through the caller's callbacks.
 *
 * One default here, "classic" (what a WebRTC receiver does); a loss-resilient policy that never
 * NACKs and lets the frame store substitute the previous good frame plugs in behind the same port.
 */

export interface LossResponse {
  /** Sequence numbers to NACK now. */
  readonly nack: number[];
}

export interface ReceivePolicy {
  /** Short name for logs and reports. */
  readonly name: string;
  /**
   * Called once for each run of sequence numbers found missing when a later packet arrives
   * (`seqs` in order, already wrapped to 16 bits).
   */
  onLoss(seqs: readonly number[], nowMs: number): LossResponse;
  /** Keyframe requests are sent at most once per this many milliseconds. */
  readonly keyframeRequestIntervalMs: number;
}

export interface ClassicPolicyOptions {
  /** Default 500 ms: at most two PLIs a second, so a lost PLI is repeated but the sender is not flooded. */
  readonly keyframeRequestIntervalMs?: number;
  /** A gap larger than this is a stream discontinuity, not loss worth retransmitting. Default 512. */
  readonly maxNackRun?: number;
}

/** How many recently NACKed sequence numbers the classic policy remembers to NACK each only once. */
const NACK_MEMORY = 2048;

/**
 * Classic: NACK every missing sequence number once (RFC 4585 §6.2.1 generic NACK; no repeats,
 * unlike libwebrtc, which retries until the RTT-based deadline) and rate-limit keyframe requests.
 */
export function classicPolicy(options: ClassicPolicyOptions = {}): ReceivePolicy {
  const keyframeRequestIntervalMs = options.keyframeRequestIntervalMs ?? 500;
  const maxNackRun = options.maxNackRun ?? 512;
  if (!(keyframeRequestIntervalMs >= 0)) throw new RangeError(`keyframeRequestIntervalMs must be >= 0, got ${keyframeRequestIntervalMs}`);
  const sent = new Set<number>();
  const order: number[] = [];
  return {
    name: "classic",
    keyframeRequestIntervalMs,
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
  };
}
