/**
 * The frame-latency floor a mahimahi uplink trace sets, whatever the sender and receiver do: a frame
 * captured at t is encoded by t + encodeMs, its n packets leave at the next n delivery
 * opportunities (strictly after that time, as link_queue.cc; sfu/link/trace.ts), nothing else is
 * queued, and it lands oneWayMs later. The latency is landing minus capture. Captures are taken at
 * every `stepMs` over one cycle of the trace.
 *
 * Why: bench:network's LTE condition asks for a resilient p95 of about 100 ms; this shows which
 * frame sizes can have it at all (devibench/network/README.md, "The LTE trace").
 *
 *   npm run bench:trace-floor -- [--trace verizon-lte] [--one-way 50] [--encode 10] [--packets 1,2,3,4,6,8]
 *
 * Pure apart from the command line at the bottom; prints figures, asserts nothing.
 */
import { pathToFileURL } from "node:url";
import { loadTrace } from "../../sfu/link/trace-catalogue.ts";
import { percentile } from "../../sfu/media/stats-window.ts";
import { firstOpportunityAfter, opportunityTimeMs, traceMeanKbps, type Trace } from "../../sfu/link/trace.ts";

export interface FloorOptions {
  readonly encodeMs: number;
  readonly oneWayMs: number;
  /** Capture spacing over the cycle (ms). Default 1. */
  readonly stepMs?: number;
  /** Latencies above this are counted in `overShare`. Default 100. */
  readonly overMs?: number;
}

export interface FloorFigures {
  readonly packets: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** Share of captures whose floor is above `overMs`. */
  readonly overShare: number;
}

export function frameLatencyFloor(trace: Trace, packets: number, o: FloorOptions): FloorFigures {
  if (!Number.isInteger(packets) || packets < 1) throw new RangeError(`packets must be a whole number >= 1, got ${packets}`);
  if (!(o.encodeMs >= 0) || !(o.oneWayMs >= 0)) throw new RangeError(`encodeMs and oneWayMs must be >= 0, got ${o.encodeMs} and ${o.oneWayMs}`);
  const step = o.stepMs ?? 1;
  if (!(step > 0)) throw new RangeError(`stepMs must be > 0, got ${step}`);
  const over = o.overMs ?? 100;
  const n = Math.floor(trace.periodMs / step);
  const lat: number[] = new Array<number>(n);
  let above = 0;
  for (let i = 0; i < n; i++) {
    const v = floorAt(trace, i * step, packets, o);
    lat[i] = v;
    if (v > over) above++;
  }
  return { packets, p50Ms: percentile(lat, 50)!, p95Ms: percentile(lat, 95)!, overShare: above / n };
}

/**
 * The floor at given capture times (ms on the trace's clock, taken modulo its cycle), each with
 * its own packet count: what the frames a run sent, when it sent them, could have had at best.
 * Returns the p95, or null for no frames.
 */
export function frameLatencyFloorAt(trace: Trace, frames: readonly { readonly atMs: number; readonly packets: number }[], o: FloorOptions): number | null {
  const lat = frames.map((f) => floorAt(trace, ((f.atMs % trace.periodMs) + trace.periodMs) % trace.periodMs, Math.max(1, f.packets), o));
  return lat.length ? percentile(lat, 95)! : null;
}

/** One capture at `t` (ms into the cycle): its `packets` leave at the next opportunities after encoding, then the one-way delay. */
function floorAt(trace: Trace, t: number, packets: number, o: FloorOptions): number {
  const first = firstOpportunityAfter(trace, t + o.encodeMs);
  return opportunityTimeMs(trace, first + packets - 1) + o.oneWayMs - t;
}

function main(argv: string[]): void {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help") {
      console.log("usage: npm run bench:trace-floor -- [--trace NAME|FILE (verizon-lte)] [--one-way MS (50)] [--encode MS (10)] [--packets LIST (1,2,3,4,6,8)]");
      return;
    }
    if (!["--trace", "--one-way", "--encode", "--packets"].includes(a) || argv[i + 1] === undefined) throw new Error(`unknown option or missing value: ${a}`);
    args.set(a, argv[++i]!);
  }
  const num = (k: string, d: number): number => {
    const raw = args.get(k);
    const v = raw === undefined ? d : Number(raw);
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${k} must be a number >= 0, got "${raw}"`);
    return v;
  };
  const trace = loadTrace(args.get("--trace") ?? "verizon-lte", "--trace");
  const encodeMs = num("--encode", 10);
  const oneWayMs = num("--one-way", 50);
  const sizes = (args.get("--packets") ?? "1,2,3,4,6,8").split(",").map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--packets: "${s}" is not a whole number >= 1`);
    return v;
  });
  console.log(`trace ${trace.source}: ${(trace.periodMs / 1000).toFixed(1)} s cycle, mean ${Math.round(traceMeanKbps(trace))} kbps; encode ${encodeMs} ms, one way ${oneWayMs} ms, a capture every ms`);
  console.log("packets  p50 ms  p95 ms  over 100 ms");
  for (const k of sizes) {
    const f = frameLatencyFloor(trace, k, { encodeMs, oneWayMs });
    console.log(`${String(k).padStart(7)}  ${String(Math.round(f.p50Ms)).padStart(6)}  ${String(Math.round(f.p95Ms)).padStart(6)}  ${(100 * f.overShare).toFixed(1).padStart(10)}%`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(`bench:trace-floor: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
}
