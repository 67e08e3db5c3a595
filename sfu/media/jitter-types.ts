/**
 * Public types of the jitter buffer's output, and the small bounded collections it keeps its
 * history in (so a long call cannot grow memory).
 */
import { seqAdd, seqDiff } from "../../encoder/rtp/index.ts";

export interface ReleasedFrame {
  readonly rtpTimestamp: number;
  /** VP8 frame or H.264 Annex B access unit. */
  readonly data: Uint8Array;
  readonly keyframe: boolean;
  readonly firstSequenceNumber: number;
  readonly lastSequenceNumber: number;
  readonly firstArrivalMs: number;
  /** Arrival of the frame's last packet: where receive latency starts. */
  readonly lastArrivalMs: number;
  /** False when a frame before it was lost and no keyframe came since: do not feed it to a decoder. */
  readonly decodable: boolean;
  /** When the buffer let it go: releasedMs - lastArrivalMs is how long it was held behind a gap. */
  readonly releasedMs: number;
  /**
   * A packet of it arrived after its sequence number had been seen missing: the frame was completed
   * by a retransmission (or a reordered packet) and waited for it.
   */
  readonly recovered: boolean;
}

/**
 * incomplete: some packets arrived, not all, by the deadline. missing: none arrived; only a gap in
 * sequence numbers shows the frame existed (possibly several frames: counted as one). malformed:
 * the packets were all there but did not depacketize.
 */
export type LossReason = "incomplete" | "missing" | "malformed";

export interface LostFrame {
  /** Undefined for reason "missing": no packet told us the timestamp. */
  readonly rtpTimestamp: number | undefined;
  readonly reason: LossReason;
  /** Sequence numbers known to be missing, in order (capped at 1000; more may be missing). */
  readonly missing: readonly number[];
  readonly declaredMs: number;
  readonly detail?: string;
}

export interface LateFrame {
  readonly rtpTimestamp: number | undefined;
  /** When its last missing packet arrived. */
  readonly completedMs: number;
  /** How long after the frame was given up. */
  readonly lateByMs: number;
}

export interface JitterOutput {
  readonly frames: ReleasedFrame[];
  readonly lost: LostFrame[];
  readonly late: LateFrame[];
  /** Sequence numbers the policy wants NACKed now. */
  readonly nack: number[];
  /** Send a keyframe request (PLI) now. */
  needKeyframe: boolean;
}

export interface JitterCounters {
  framesComplete: number;
  framesLost: number;
  framesLate: number;
  /** Complete frames released with `decodable: false`. */
  framesUndecodable: number;
  packetsReceived: number;
  packetsDuplicate: number;
  /** Packets that came after their frame was released or given up (duplicates excluded). */
  packetsLate: number;
  bytesReceived: number;
  packetsNacked: number;
  keyframeRequests: number;
  /** Packets the sender sent as far as sequence numbers tell (highest minus first, plus one). */
  packetsExpected: number;
  /** Sequence numbers found missing when a later packet arrived, before any retransmission. */
  packetsMissed: number;
  /** Missed packets that arrived in time to complete their frame (retransmitted or reordered). */
  packetsRecovered: number;
  /** Frames released complete thanks to a recovered packet: frames that waited for a retransmission. */
  framesRecovered: number;
  /** Frames given up at their deadline (incomplete or missing; malformed ones excluded). */
  framesDroppedAtDeadline: number;
}

export const MAX_LISTED_MISSING = 1000;

/** `from` up to but excluding `to`, wrapped; capped so a wild jump cannot allocate 32k entries. */
export function seqRange(from: number, to: number): number[] {
  const n = Math.min(Math.max(seqDiff(from, to), 0), MAX_LISTED_MISSING);
  return Array.from({ length: n }, (_, i) => seqAdd(from, i));
}

/** Insertion-ordered set that forgets its oldest entries beyond `cap`. */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly cap: number) {}
  get(k: K): V | undefined {
    return this.map.get(k);
  }
  has(k: K): boolean {
    return this.map.has(k);
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.cap) this.map.delete(this.map.keys().next().value as K);
  }
  delete(k: K): void {
    this.map.delete(k);
  }
}


export function emptyOutput(): JitterOutput {
  return { frames: [], lost: [], late: [], nack: [], needKeyframe: false };
}
