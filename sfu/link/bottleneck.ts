/**
 * The bottleneck's server: given a packet entering at `nowMs`, when does its transmission start and
 * when has its last byte left? Packets are served first come, first served and are admitted in time
 * order, so each answer depends only on earlier packets and can be computed at entry, with no
 * per-millisecond ticking. The drop-tail decision is made before admitting (queue.ts).
 */
import type { LinkRate } from "./config.ts";
import { firstOpportunityAfter, OPPORTUNITY_BYTES, opportunityTimeMs, type Trace } from "./trace.ts";

export interface Transmission {
  /** When the packet's first byte goes (it stops waiting in the queue). */
  readonly startMs: number;
  /** When its last byte has gone: it leaves the bottleneck and starts its propagation delay. */
  readonly departureMs: number;
}

export interface Bottleneck {
  admit(sizeBytes: number, nowMs: number): Transmission;
}

export function makeBottleneck(rate: LinkRate, startMs: number): Bottleneck {
  switch (rate.kind) {
    case "unlimited":
      return { admit: (_size, nowMs) => ({ startMs: nowMs, departureMs: nowMs }) };
    case "fixed":
      return new FixedRateServer(rate.bitsPerSecond);
    case "trace":
      return new TraceServer(rate.trace, startMs);
  }
}

/** A constant-rate link: S bytes take S * 8 / rate seconds, one packet at a time. */
export class FixedRateServer implements Bottleneck {
  private busyUntilMs = -Infinity;

  constructor(private readonly bitsPerSecond: number) {}

  admit(sizeBytes: number, nowMs: number): Transmission {
    const startMs = Math.max(nowMs, this.busyUntilMs);
    const departureMs = startMs + (sizeBytes * 8 * 1000) / this.bitsPerSecond;
    this.busyUntilMs = departureMs;
    return { startMs, departureMs };
  }
}

/**
 * A trace-driven link with mahimahi's LinkQueue byte accounting (src/frontend/link_queue.cc,
 * `rationalize`): each opportunity carries up to 1500 bytes; several small packets share one
 * opportunity (the surplus after a packet goes to the next one in the queue); a packet larger than
 * what is left continues in the next opportunities and leaves at the one carrying its last byte;
 * an opportunity that finds the queue empty is wasted, and so are the bytes left in it.
 */
export class TraceServer implements Bottleneck {
  /** Opportunity (index over all cycles) that the next queued byte would use. */
  private cursor = -1;
  /** Bytes still free in the cursor's opportunity. */
  private bytesLeft = 0;

  constructor(
    private readonly trace: Trace,
    /** The trace's time 0 on the caller's clock. */
    private readonly originMs: number,
  ) {}

  admit(sizeBytes: number, nowMs: number): Transmission {
    const relMs = nowMs - this.originMs;
    // The queue drained before this packet came: every opportunity up to now went unused.
    if (this.cursor < 0 || opportunityTimeMs(this.trace, this.cursor) <= relMs) {
      this.cursor = firstOpportunityAfter(this.trace, relMs);
      this.bytesLeft = OPPORTUNITY_BYTES;
    }
    const first = this.cursor;
    let remaining = sizeBytes;
    while (remaining > this.bytesLeft) {
      remaining -= this.bytesLeft;
      this.cursor++;
      this.bytesLeft = OPPORTUNITY_BYTES;
    }
    this.bytesLeft -= remaining;
    const last = this.cursor;
    if (this.bytesLeft === 0) {
      this.cursor++;
      this.bytesLeft = OPPORTUNITY_BYTES;
    }
    return {
      startMs: this.originMs + opportunityTimeMs(this.trace, first),
      departureMs: this.originMs + opportunityTimeMs(this.trace, last),
    };
  }
}
