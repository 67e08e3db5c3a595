/**
 * Frame latency as the MLLM sees it, per captured frame: from capture until that frame is available
 * (released decodable by the jitter buffer), or, for a frame that never is (lost, given up,
 * undecodable), until the next good frame captured after it is available: that is how long the
 * model is left with an older picture. The same rule as sfu/media/frame-delay.ts (`FrameDelay`),
 * but in absolute milliseconds: in the simulation capture and release share one clock, so nothing
 * needs to be measured "above the fastest frame" (the unit test checks the two agree up to that
 * offset).
 *
 * Frames with no good frame after them (at the end of a run) cannot be timed: they are counted in
 * `untimed`, not guessed.
 *
 * Pure.
 */
import { percentile } from "../../sfu/media/stats-window.ts";

export interface FrameOutcome {
  readonly captureMs: number;
  /** When it became available to the model; null when it never did. */
  readonly availableMs: number | null;
}

export interface LatencyResult {
  /** One figure per timed frame, in capture order. */
  readonly latenciesMs: number[];
  /** Frames that were never available and were timed until the next good one. */
  readonly waitedForNext: number;
  readonly untimed: number;
}

export function frameLatencies(frames: readonly FrameOutcome[]): LatencyResult {
  const sorted = [...frames].sort((a, b) => a.captureMs - b.captureMs);
  const latenciesMs: number[] = [];
  let waitedForNext = 0;
  let untimed = 0;
  // Walk backwards, keeping the earliest availability among frames captured later.
  const out: Array<number | null> = new Array(sorted.length).fill(null);
  let nextGoodMs = Infinity;
  for (let i = sorted.length - 1; i >= 0; i--) {
    const f = sorted[i]!;
    if (f.availableMs !== null) {
      out[i] = f.availableMs - f.captureMs;
      nextGoodMs = Math.min(nextGoodMs, f.availableMs);
    } else if (Number.isFinite(nextGoodMs)) {
      out[i] = nextGoodMs - f.captureMs;
      waitedForNext++;
    } else {
      untimed++;
    }
  }
  for (const v of out) if (v !== null) latenciesMs.push(v);
  return { latenciesMs, waitedForNext, untimed };
}

/**
 * The frames `frameLatencies` times, in capture order: every frame up to the last one that became
 * available (the ones after it have no good frame to wait for). For figures taken over the same
 * frames as the latencies (bench-network.ts's trace floor).
 */
export function timedFrames<F extends FrameOutcome>(frames: readonly F[]): F[] {
  const sorted = [...frames].sort((a, b) => a.captureMs - b.captureMs);
  let last = -1;
  sorted.forEach((f, i) => {
    if (f.availableMs !== null) last = i;
  });
  return sorted.slice(0, last + 1);
}

export interface LatencySummary {
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly frames: number;
}

/** Nearest-rank p50/p95 (stats-window.ts `percentile`), rounded to whole ms. */
export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const r = (v: number | undefined) => (v === undefined ? null : Math.round(v));
  return { p50Ms: r(percentile(latenciesMs, 50)), p95Ms: r(percentile(latenciesMs, 95)), frames: latenciesMs.length };
}
