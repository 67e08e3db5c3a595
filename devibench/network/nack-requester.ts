/**
 * NACK retries for the classic receiver, as libwebrtc's receive side does them
 * (modules/video_coding/nack_requester.cc): a missing sequence number is NACKed when the gap is
 * seen, then again every round trip while it has not arrived, up to `maxRetries` times
 * (kMaxNackRetries = 10 there). It is forgotten when it arrives, when the jitter buffer gives its
 * frame up, or when a keyframe after it is released (libwebrtc's ClearUpTo on a keyframe).
 *
 * Why here and not in sfu/media/receive-policy.ts: the policy is asked only when a gap is seen
 * (`onLoss`); it has no timer, so it cannot repeat a NACK without a change to the jitter buffer's
 * interface. libwebrtc also keeps this state machine apart from its frame buffer.
 *
 * Pure: the clock is an argument.
 */
import { seqDiff } from "../../encoder/rtp/index.ts";

export interface NackRequesterOptions {
  /** Time between two NACKs of one sequence number (libwebrtc: the RTT estimate). */
  readonly retryIntervalMs: number;
  /** NACKs after the first one. Default 10 (libwebrtc kMaxNackRetries). */
  readonly maxRetries?: number;
}

interface Entry {
  sentMs: number;
  retries: number;
}

export class NackRequester {
  private readonly entries = new Map<number, Entry>();
  private readonly intervalMs: number;
  private readonly maxRetries: number;
  /** NACKs sent again after the first one. */
  retriesSent = 0;

  constructor(options: NackRequesterOptions) {
    if (!(options.retryIntervalMs > 0) || !Number.isFinite(options.retryIntervalMs)) {
      throw new RangeError(`retryIntervalMs must be a finite number > 0, got ${options.retryIntervalMs}`);
    }
    this.intervalMs = options.retryIntervalMs;
    this.maxRetries = options.maxRetries ?? 10;
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0) throw new RangeError(`maxRetries must be a whole number >= 0, got ${this.maxRetries}`);
  }

  /** The receive path NACKed these now (their first NACK). */
  nacked(seqs: readonly number[], nowMs: number): void {
    for (const s of seqs) if (!this.entries.has(s)) this.entries.set(s, { sentMs: nowMs, retries: 0 });
  }

  /** A packet arrived (first copy or a retransmission). */
  received(seq: number): void {
    this.entries.delete(seq);
  }

  /** Its frame was given up: retransmitting it is useless now. */
  forget(seqs: readonly number[]): void {
    for (const s of seqs) this.entries.delete(s);
  }

  /** A keyframe starting at `seq` was released: nothing before it is needed any more. */
  clearBefore(seq: number): void {
    for (const s of [...this.entries.keys()]) if (seqDiff(s, seq) > 0) this.entries.delete(s);
  }

  /** When `due` has something to send; undefined when nothing is pending. */
  nextDueMs(): number | undefined {
    let t: number | undefined;
    for (const e of this.entries.values()) t = Math.min(t ?? Infinity, e.sentMs + this.intervalMs);
    return t;
  }

  /** Sequence numbers to NACK again now; those out of retries are dropped. */
  due(nowMs: number): number[] {
    const out: number[] = [];
    for (const [s, e] of this.entries) {
      if (nowMs < e.sentMs + this.intervalMs) continue;
      if (e.retries >= this.maxRetries) {
        this.entries.delete(s);
        continue;
      }
      e.retries++;
      e.sentMs = nowMs;
      this.retriesSent++;
      out.push(s);
    }
    return out.sort((a, b) => seqDiff(b, a));
  }

  get pending(): number {
    return this.entries.size;
  }
}
