/**
 * The clock and timers the link's shells (pipe, relay) run on. `realTimer` is the process's
 * monotonic clock and setTimeout; `VirtualTimer` is a manual clock for tests and for offline runs
 * (a benchmark can push hours of packets through a link in milliseconds of CPU time).
 */
export interface TimerHandle {
  cancel(): void;
}

export interface LinkTimer {
  /** Milliseconds on a clock that never goes backwards. */
  now(): number;
  /** Calls `fn` once, `delayMs` from now. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
}

/** `performance.now()` and `setTimeout`: monotonic, unlike `Date.now()`, so NTP steps cannot reorder packets. */
export const realTimer: LinkTimer = {
  now: () => performance.now(),
  setTimer(delayMs, fn) {
    // Whole ms, rounded up: libuv timers count whole ms, and firing early would only cost a wasted wake-up.
    const t = setTimeout(fn, Math.max(0, Math.ceil(delayMs)));
    return { cancel: () => clearTimeout(t) };
  },
};

interface VirtualEntry {
  readonly atMs: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A manual clock: time moves only in `advance`/`advanceTo`, which run due timers in time order. */
export class VirtualTimer implements LinkTimer {
  private nowMs: number;
  private seq = 0;
  private entries: VirtualEntry[] = [];

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const entry: VirtualEntry = { atMs: this.nowMs + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.entries.push(entry);
    return { cancel: () => { entry.cancelled = true; } };
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.entries.filter((e) => !e.cancelled).length;
  }

  advance(ms: number): void {
    this.advanceTo(this.nowMs + ms);
  }

  /** Moves the clock to `targetMs`, firing each due timer at its own time (earliest first, ties in order set). */
  advanceTo(targetMs: number): void {
    for (;;) {
      this.entries = this.entries.filter((e) => !e.cancelled);
      let next: VirtualEntry | undefined;
      for (const e of this.entries) {
        if (e.atMs <= targetMs && (!next || e.atMs < next.atMs || (e.atMs === next.atMs && e.seq < next.seq))) next = e;
      }
      if (!next) break;
      next.cancelled = true;
      this.nowMs = Math.max(this.nowMs, next.atMs);
      next.fn();
    }
    this.nowMs = Math.max(this.nowMs, targetMs);
  }
}
