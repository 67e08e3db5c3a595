/**
 * The sender's congestion window: bytes sent and not yet covered by the receiver's transport
 * feedback, against what the link can hold at the target rate. While the window is full the sender
 * gives the encoder no new frames (a frame dropper), so a link that stalls does not fill its queue
 * with frames that will wait out the stall, and overflow, and break the reference chain.
 *
 * Follows libwebrtc's congestion window in goog_cc (`CongestionWindowPushbackController`, its
 * frame-dropping variant): the window is the target rate times the round trip plus an accepted
 * queue; the data in flight comes from transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01: every packet carries a transport-wide
 * sequence number, the receiver reports which arrived). Feedback here is reduced to the highest
 * sequence number the receiver has seen: everything up to it has either arrived or is lost, and is
 * no longer in flight.
 *
 * Bounded: an entry older than `staleMs` with no feedback covering it is no longer counted, so a
 * receiver whose feedback stops (or never comes) leaves the sender at one window per `staleMs`,
 * not stopped for good; the list holds at most what was sent in that time.
 *
 * Pure: the clock is an argument; sequence numbers are the sender's own, unwrapped.
 */
import { FEEDBACK_INTERVAL_MS } from "./transport-feedback.ts";

export interface CongestionWindowOptions {
  /** The queue the window accepts on top of the round trip and the feedback interval (ms). Default 100. */
  readonly acceptedQueueMs?: number;
  /** How often the receiver sends feedback (ms): data sent within it is not acknowledged yet. Default FEEDBACK_INTERVAL_MS (50). */
  readonly feedbackIntervalMs?: number;
  /** The window never shrinks below this many bytes. Default 2400 (two full packets). */
  readonly minBytes?: number;
  /** Entries with no feedback for this long are no longer counted (ms). Default 3000. */
  readonly staleMs?: number;
}

/** How far back the round trip's minimum looks. */
const RTT_WINDOW_MS = 10_000;

interface Sent {
  readonly seq: number;
  readonly bytes: number;
  readonly sentMs: number;
}

export class CongestionWindow {
  private readonly acceptedQueueMs: number;
  private readonly feedbackIntervalMs: number;
  private readonly minBytes: number;
  private readonly staleMs: number;
  private readonly sent: Sent[] = [];
  private head = 0;
  private inFlight = 0;
  private lastSeq = -1;
  private ackedUpTo = -1;
  private feedbackSeen = false;
  /** (time, send-to-feedback delay) of recent feedback, for the round trip when the caller has none. */
  private readonly delays: Array<{ atMs: number; ms: number }> = [];

  constructor(o: CongestionWindowOptions = {}) {
    this.acceptedQueueMs = o.acceptedQueueMs ?? 100;
    this.feedbackIntervalMs = o.feedbackIntervalMs ?? FEEDBACK_INTERVAL_MS;
    this.minBytes = o.minBytes ?? 2400;
    this.staleMs = o.staleMs ?? 3000;
    for (const [k, v] of Object.entries({ acceptedQueueMs: this.acceptedQueueMs, feedbackIntervalMs: this.feedbackIntervalMs, minBytes: this.minBytes, staleMs: this.staleMs })) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${k} must be a finite number >= 0, got ${v}`);
    }
  }

  /** A packet left the sender. `seq` must grow by one per packet (the transport-wide number). */
  onSent(seq: number, bytes: number, nowMs: number): void {
    if (!Number.isInteger(seq) || seq <= this.lastSeq) throw new RangeError(`transport sequence numbers must increase, got ${seq} after ${this.lastSeq}`);
    if (!(bytes > 0) || !Number.isFinite(nowMs)) throw new RangeError(`need bytes > 0 and a finite time, got ${bytes}, ${nowMs}`);
    this.lastSeq = seq;
    this.sent.push({ seq, bytes, sentMs: nowMs });
    this.inFlight += bytes;
    this.expire(nowMs);
  }

  /**
   * Feedback: the receiver has seen packets up to `highestSeq`. Feedback that is older than what
   * is known (reordered, duplicated) or names a packet never sent changes nothing.
   */
  onFeedback(highestSeq: number, nowMs: number): void {
    if (!Number.isInteger(highestSeq) || !Number.isFinite(nowMs)) return;
    this.feedbackSeen = true;
    if (highestSeq <= this.ackedUpTo || highestSeq > this.lastSeq) return;
    this.ackedUpTo = highestSeq;
    let newest: Sent | undefined;
    while (this.head < this.sent.length && this.sent[this.head]!.seq <= highestSeq) {
      newest = this.sent[this.head++]!;
      this.inFlight -= newest.bytes;
    }
    this.compact();
    if (newest?.seq === highestSeq) {
      // From sending the newest packet reported to hearing of it: the round trip plus any queue
      // and the wait for the next feedback; its minimum over 10 s is the round trip.
      this.delays.push({ atMs: nowMs, ms: Math.max(0, nowMs - newest.sentMs) });
      while (this.delays.length > 0 && (nowMs - this.delays[0]!.atMs > RTT_WINDOW_MS || this.delays.length > 1000)) this.delays.shift();
    }
  }

  /** Bytes sent and not yet covered by feedback (stale ones left out) as of the last call. */
  get inFlightBytes(): number {
    return this.inFlight;
  }

  /**
   * The round trip as the feedback shows it: the least delay from sending a packet to the feedback
   * that reports it, over the last 10 s (it includes up to one feedback interval); null before any.
   */
  get feedbackRttMs(): number | null {
    return this.delays.length ? Math.min(...this.delays.map((d) => d.ms)) : null;
  }

  /** The window at this rate and round trip (bytes); without a round trip, the one feedback shows (100 ms before any). */
  windowBytes(rateBps: number, rttMs?: number): number {
    return this.bytesFor(rateBps, this.spanMs(rttMs));
  }

  /** The round trip (the caller's, or the one feedback shows, 100 ms before any) plus the feedback interval and the accepted queue. */
  private spanMs(rttMs: number | undefined): number {
    return Math.max(0, rttMs ?? this.feedbackRttMs ?? 100) + this.feedbackIntervalMs + this.acceptedQueueMs;
  }

  private bytesFor(rateBps: number, spanMs: number): number {
    return Math.max(this.minBytes, (Math.max(0, rateBps) * spanMs) / 8000);
  }

  /**
   * Whether a new frame may go to the encoder now: not while the bytes in flight fill the window
   * AND the oldest of them has waited longer than the round trip, the feedback interval and the
   * accepted queue (data is stuck in a queue, not just on its way). The second test keeps a
   * paced keyframe burst on a healthy link (up to 2.5x the rate in flight for a round trip) from
   * holding frames back: at 15% random loss and 150 ms RTT the bytes test alone held back a
   * frame in 15 and doubled the p95. Before any feedback the window is not used: a receiver that
   * sends none must not stop the sender.
   */
  admits(rateBps: number, rttMs?: number, nowMs?: number): boolean {
    if (nowMs !== undefined) this.expire(nowMs);
    if (!this.feedbackSeen) return true;
    const span = this.spanMs(rttMs);
    if (this.inFlight < this.bytesFor(rateBps, span)) return true;
    if (nowMs === undefined || this.head >= this.sent.length) return false;
    return nowMs - this.sent[this.head]!.sentMs <= span;
  }

  private expire(nowMs: number): void {
    while (this.head < this.sent.length && nowMs - this.sent[this.head]!.sentMs > this.staleMs) this.inFlight -= this.sent[this.head++]!.bytes;
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.sent.length) {
      this.sent.splice(0, this.head);
      this.head = 0;
    }
  }
}
