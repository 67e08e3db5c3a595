/**
 * mahimahi packet-delivery traces (Netravali et al., "Mahimahi: Accurate Record-and-Replay for
 * HTTP", USENIX ATC 2015; format in traces/README.mahimahi). Each line is a millisecond timestamp
 * at which one MTU-sized packet may leave the bottleneck queue; a timestamp repeated n times is n
 * opportunities in that millisecond. The trace repeats with period = its last timestamp, as mm-link
 * does by default (mahimahi src/frontend/link_queue.cc: `base_timestamp_ += schedule_.back()` on
 * wrap-around), so the opportunity at index k of cycle c is at `c * periodMs + opportunitiesMs[k]`.
 *
 * The parser enforces the same rules as link_queue.cc's constructor (no empty lines, nondecreasing
 * timestamps, at least one timestamp, nonzero length), with errors that give the line number.
 *
 * Pure: text in, value out. Reading files is `trace-catalogue.ts`'s job.
 */
import { LinkError } from "./errors.ts";

/**
 * Bytes one delivery opportunity carries. The trace README says 1500 (an Ethernet MTU);
 * link_queue.hh's `PACKET_SIZE` is 1504 because mahimahi counts the 4-byte TUN header too. We carry
 * UDP payloads without that header, so 1500 is the matching figure.
 */
export const OPPORTUNITY_BYTES = 1500;

export interface Trace {
  /** Where the trace came from (file path or catalogue name), for messages. */
  readonly source: string;
  /** Opportunity timestamps of one cycle, ms from the cycle's start, nondecreasing. */
  readonly opportunitiesMs: Float64Array;
  /** Length of one cycle: the last timestamp. Always > 0. */
  readonly periodMs: number;
}

const DIGITS = /^\d+$/;

/**
 * Parses a mahimahi trace. Throws `LinkError` (`INVALID_TRACE`) on `field` naming the line.
 * `source` (a file path or name) starts each message.
 */
export function parseTrace(text: string, source = "trace", field = "trace"): Trace {
  const lines = text.split("\n");
  // One final newline is normal; link_queue.cc's getline loop never sees it as a line either.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0 || (lines.length === 1 && lines[0]!.trim() === "")) {
    throw new LinkError("INVALID_TRACE", field, `${source}: the trace is empty; expected one millisecond timestamp per line`);
  }
  const out = new Float64Array(lines.length);
  let prev = 0;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.endsWith("\r") ? lines[i]!.slice(0, -1) : lines[i]!;
    const lineNo = i + 1;
    const trimmed = text.trim();
    if (!DIGITS.test(trimmed)) {
      const what = trimmed === "" ? "an empty line" : `${JSON.stringify(text)}`;
      throw new LinkError("INVALID_TRACE", field,
        `${source}: line ${lineNo} is ${what}; expected a whole number of milliseconds >= 0`, { line: lineNo });
    }
    const ms = Number(trimmed);
    if (!Number.isSafeInteger(ms)) {
      throw new LinkError("INVALID_TRACE", field, `${source}: line ${lineNo} (${trimmed}) is too large a timestamp`, { line: lineNo });
    }
    if (ms < prev) {
      throw new LinkError("INVALID_TRACE", field,
        `${source}: line ${lineNo} goes backwards (${ms} ms after ${prev} ms); timestamps must be nondecreasing`, { line: lineNo });
    }
    out[i] = ms;
    prev = ms;
  }
  const periodMs = out[out.length - 1]!;
  if (periodMs === 0) {
    throw new LinkError("INVALID_TRACE", field,
      `${source}: the trace lasts 0 ms (its last timestamp is 0), so it cannot repeat; the last line sets the period`);
  }
  return { source, opportunitiesMs: out, periodMs };
}

/** Mean capacity in kbps: opportunities per cycle * 1500 bytes * 8 bits / period (bits per ms = kbps). */
export function traceMeanKbps(trace: Trace): number {
  return (trace.opportunitiesMs.length * OPPORTUNITY_BYTES * 8) / trace.periodMs;
}

/**
 * Time of opportunity `index`, counted over all cycles (index = cycle * length + position), in ms
 * from the trace's start.
 */
export function opportunityTimeMs(trace: Trace, index: number): number {
  const n = trace.opportunitiesMs.length;
  const cycle = Math.floor(index / n);
  return cycle * trace.periodMs + trace.opportunitiesMs[index - cycle * n]!;
}

/**
 * Index (over all cycles) of the first opportunity strictly after `relMs` (ms from the trace's
 * start). Strictly: in link_queue.cc a packet arriving at `now` first burns every opportunity at or
 * before `now` (`rationalize(now)` runs before the enqueue), so it can only leave at a later one.
 */
export function firstOpportunityAfter(trace: Trace, relMs: number): number {
  const ts = trace.opportunitiesMs;
  const n = ts.length;
  if (relMs < 0) return 0;
  const cycle = Math.floor(relMs / trace.periodMs);
  const within = relMs - cycle * trace.periodMs;
  // Upper bound: first k with ts[k] > within. If none, the next cycle's first opportunity is at
  // (cycle + 1) * period + ts[0] >= (cycle + 1) * period > relMs.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! > within) hi = mid;
    else lo = mid + 1;
  }
  return cycle * n + lo;
}
