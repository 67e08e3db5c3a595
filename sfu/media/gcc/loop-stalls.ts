/**
 * Whether a packet's arrival time, as the call server reads it, can be trusted for GCC's delay
 * measurements (draft-ietf-rmcat-gcc-02 §5.1 needs each packet's arrival time).
 *
 * The server stamps a packet when its JavaScript handler runs, not when the packet reached the
 * socket: while the event loop is busy (SRTP, decoded frames, the agent; p99 23-87 ms and up to
 * 131 ms on the 2-core test machine), packets wait in the kernel and are then read together. GCC
 * sees a delay that grew and then a burst, which is what a filling queue looks like; in 1 of 20
 * answers the estimate fell from 600 to 376 kbps on localhost, and under 300 kbps in CI. Chrome
 * reads its sockets on a network thread that does nothing else; Node gives no kernel receive
 * timestamps (SO_TIMESTAMP), so the server watches its own loop instead.
 *
 * A timer beats every `intervalMs`. A read is untimed when the loop was late for the last beat
 * (a stall just ended; the packets read now waited behind it) or when more than `intervalMs +
 * slackMs` passed since the last beat (the loop has been busy since). The cost is that the
 * packets around a stall give no delay sample; the estimate still sees a real queue, which grows
 * over many groups (gcc.test.ts "stalls" tests).
 */
export interface LoopStallOptions {
  /** Milliseconds, the same clock the packets are stamped with. */
  readonly clock: () => number;
  /** Beat interval. Default 5 ms. */
  readonly intervalMs?: number;
  /** Lateness of a beat that counts as a stall. Default 5 ms (a stall of 10 ms or more is seen). */
  readonly slackMs?: number;
}

export class LoopStallWatch {
  private readonly clock: () => number;
  readonly intervalMs: number;
  readonly slackMs: number;
  private lastBeatMs: number | null = null;
  private lastBeatLate = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Beats that came late (stalls seen) and the longest gap between beats, ms. */
  stalls = 0;
  longestGapMs = 0;

  constructor(o: LoopStallOptions) {
    this.clock = o.clock;
    this.intervalMs = o.intervalMs ?? 5;
    this.slackMs = o.slackMs ?? 5;
    if (!(this.intervalMs > 0) || !(this.slackMs >= 0)) throw new RangeError(`LoopStallWatch: intervalMs must be > 0 and slackMs >= 0, got ${this.intervalMs} and ${this.slackMs}`);
  }

  /** Starts the beat (an unref'd timer: it keeps no process alive). */
  start(): this {
    if (this.timer === null) {
      this.beat(this.clock());
      this.timer = setInterval(() => this.beat(this.clock()), this.intervalMs);
      this.timer.unref?.();
    }
    return this;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.lastBeatMs = null;
  }

  /** One beat at `nowMs` (the timer calls it; public so that tests can drive it). */
  beat(nowMs: number): void {
    if (this.lastBeatMs !== null) {
      const gap = nowMs - this.lastBeatMs;
      this.lastBeatLate = gap > this.intervalMs + this.slackMs;
      if (this.lastBeatLate) this.stalls++;
      this.longestGapMs = Math.max(this.longestGapMs, gap);
    }
    this.lastBeatMs = nowMs;
  }

  /** Whether a packet read at `nowMs` may have waited in the socket behind a stall. False before the first beat. */
  untimed(nowMs: number): boolean {
    if (this.lastBeatMs === null) return false;
    return this.lastBeatLate || nowMs - this.lastBeatMs > this.intervalMs + this.slackMs;
  }
}
