/**
 * Paces the publisher's packets at a multiple of its bitrate cap, as libwebrtc's pacer does
 * (modules/pacing: kDefaultPaceMultiplier 2.5), instead of sending a frame's packets in one burst:
 * a keyframe of 30 packets into a cellular uplink with a 30-packet queue lost its tail, and a
 * burst reads to the receiver's delay-based estimate as a queue (draft-ietf-rmcat-gcc-02 §5.2
 * groups packets sent within 5 ms; paced ones are spaced as the cap allows). Packets leave in the
 * order they came (a frame's media, then its parity).
 *
 * Bounded: when the paced rate would keep the oldest queued packet waiting past `maxQueueMs`, it
 * sends at the rate that empties the queue by then (libwebrtc raises its pacing rate the same way
 * to meet its expected queue time), so a cap far below the encoder's output cannot build an
 * unbounded backlog. Pure: the clock and the timer are injected.
 */
export interface PacerOptions {
  /** Pacing rate as a multiple of the cap. Default 2.5. */
  readonly factor?: number;
  /** Longest the queue may take to drain. Default 500 ms. */
  readonly maxQueueMs?: number;
  readonly now: () => number;
  /** Calls `fn` after `ms` (a timer); the pacer keeps at most one pending. */
  readonly schedule: (fn: () => void, ms: number) => void;
}

interface Item {
  readonly bytes: number;
  readonly send: () => void;
}

interface Queued extends Item {
  readonly enqueuedMs: number;
}

export class Pacer {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private nextSendMs = -Infinity;
  private lastSentMs: number | null = null;
  private lastSentBytes = 0;
  /** When the pending timer fires (null: none). A later enqueue may need an earlier one. */
  private timerAtMs: number | null = null;
  private capBps: number;
  private readonly factor: number;
  private readonly maxQueueMs: number;
  /** Packets sent, and the longest any waited (ms). */
  sent = 0;
  maxWaitMs = 0;

  constructor(capBps: number, private readonly o: PacerOptions) {
    if (!(capBps > 0)) throw new RangeError(`capBps must be > 0, got ${capBps}`);
    this.capBps = capBps;
    this.factor = o.factor ?? 2.5;
    this.maxQueueMs = o.maxQueueMs ?? 500;
  }

  setCapBps(bps: number): void {
    if (bps > 0) this.capBps = bps;
  }

  /** Queues packets (`send` puts one on the wire); sends what is due at once. */
  enqueue(items: readonly Item[]): void {
    const at = this.o.now();
    for (const it of items) {
      this.queue.push({ bytes: it.bytes, send: it.send, enqueuedMs: at });
      this.queuedBytes += it.bytes;
    }
    this.drain();
  }

  private rateBps(now: number): number {
    const paced = this.factor * this.capBps;
    // The rate that sends everything queued before the oldest packet has waited maxQueueMs, when
    // the paced one would not (libwebrtc's pacer keeps an expected queue time the same way).
    const head = this.queue[0];
    if (!head) return paced;
    const leftMs = Math.max(1, this.maxQueueMs - (now - head.enqueuedMs));
    return Math.max(paced, (this.queuedBytes * 8 * 1000) / leftMs);
  }

  private drain(): void {
    const now = this.o.now();
    // An idle pacer does not bank budget for a burst later (nextSendMs not in the past).
    if (this.nextSendMs < now) this.nextSendMs = now;
    // The packet after the last one sent is due one packet time at today's rate, not at the
    // (slower) rate it was reckoned at.
    const head = this.queue[0];
    if (head && this.lastSentMs !== null) this.nextSendMs = Math.max(now, Math.min(this.nextSendMs, this.lastSentMs + (this.lastSentBytes * 8 * 1000) / this.rateBps(now)));
    while (this.queue.length > 0 && this.nextSendMs <= now) {
      const rate = this.rateBps(now);
      const it = this.queue.shift()!;
      this.queuedBytes -= it.bytes;
      this.nextSendMs += (it.bytes * 8 * 1000) / rate;
      this.maxWaitMs = Math.max(this.maxWaitMs, now - it.enqueuedMs);
      this.lastSentMs = now;
      this.lastSentBytes = it.bytes;
      this.sent++;
      it.send();
    }
    // More queued raises the rate, so the next packet may be due before the pending timer; a timer
    // that fires with nothing due does nothing.
    if (this.queue.length > 0 && (this.timerAtMs === null || this.nextSendMs < this.timerAtMs)) {
      const at = this.nextSendMs;
      this.timerAtMs = at;
      this.o.schedule(() => {
        if (this.timerAtMs === at) this.timerAtMs = null;
        this.drain();
      }, Math.max(0, at - now));
    }
  }
}
