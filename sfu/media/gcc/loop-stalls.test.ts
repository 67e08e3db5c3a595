import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../encoder/synth/prng.ts";
import { DelayBasedEstimator } from "./delay-based.ts";
import { LoopStallWatch } from "./loop-stalls.ts";

/**
 * A 600 kbps, 15 fps sender (packets of 1200 bytes paced at 2.5x, a 40 KB keyframe every 4 s)
 * into a server whose event loop stalls: every 5 ms of loop time a stall of 10-140 ms (cubed
 * uniform: mostly short) starts with probability `stallP`. A packet is read when the loop is free
 * (0.3 ms a read); the watch's beat is due every 5 ms and, as Node's timers run before its poll
 * phase, a beat due during a stall runs first when it ends. From `narrowAtMs` on, the link drains
 * at `narrowBps` (unbounded FIFO). Returns the lowest estimate before the narrowing and at the end.
 */
function stallingReader(o: { seed: number; stallP: number; useWatch: boolean; seconds: number; narrowAtMs?: number; narrowBps?: number }) {
  const rand = mulberry32(o.seed);
  const est = new DelayBasedEstimator({ minBps: 100_000, maxBps: 600_000 });
  const watch = new LoopStallWatch({ clock: () => 0 });
  let loopFreeMs = 0;
  let nextStallDrawMs = 0;
  let nextBeatMs = 0;
  let pacerMs = 0;
  let linkFreeMs = 0;
  let lowestBefore = Infinity;
  const runBeats = (uptoMs: number) => {
    while (nextBeatMs <= uptoMs) {
      const at = Math.max(nextBeatMs, loopFreeMs);
      watch.beat(at);
      nextBeatMs = at + watch.intervalMs;
    }
  };
  for (let f = 0; f < o.seconds * 15; f++) {
    let left = f % 60 === 0 ? 40_000 : 3000 + rand() * 4000;
    pacerMs = Math.max(pacerMs, (f * 1000) / 15);
    while (left > 0) {
      const bytes = Math.min(1200, left);
      left -= bytes;
      const sendMs = pacerMs;
      pacerMs += (bytes * 8) / 1500;
      let arriveMs = sendMs + 0.2;
      if (o.narrowAtMs !== undefined && sendMs >= o.narrowAtMs) {
        linkFreeMs = Math.max(linkFreeMs, sendMs) + (bytes * 8 * 1000) / o.narrowBps!;
        arriveMs = linkFreeMs + 0.2;
      }
      for (; nextStallDrawMs < arriveMs; nextStallDrawMs += 5) {
        runBeats(nextStallDrawMs);
        if (rand() < o.stallP) loopFreeMs = Math.max(loopFreeMs, nextStallDrawMs) + 10 + rand() ** 3 * 130;
      }
      runBeats(Math.max(arriveMs, loopFreeMs));
      const readMs = Math.max(arriveMs, loopFreeMs);
      loopFreeMs = readMs + 0.3;
      const bps = est.onPacket(sendMs, readMs, bytes, 100, o.useWatch && watch.untimed(readMs));
      if (o.narrowAtMs === undefined || sendMs < o.narrowAtMs) lowestBefore = Math.min(lowestBefore, bps);
    }
  }
  return { lowestBefore, end: est.estimateBps, untimed: est.untimedPackets, stalls: watch.stalls };
}

describe("LoopStallWatch", () => {
  it("untimed, beats on time, is false for reads between them", () => {
    const w = new LoopStallWatch({ clock: () => 0 });
    for (let t = 0; t <= 50; t += 5) w.beat(t);
    expect(w.untimed(52)).toBe(false);
    expect(w.stalls).toBe(0);
  });

  it("untimed, a beat 40 ms late, is true for reads until the next beat on time, then false", () => {
    const w = new LoopStallWatch({ clock: () => 0 });
    w.beat(0);
    w.beat(5);
    w.beat(45);
    expect(w.untimed(45.5)).toBe(true);
    expect(w.untimed(49)).toBe(true);
    w.beat(50);
    expect(w.untimed(51)).toBe(false);
    expect(w.stalls).toBe(1);
    expect(w.longestGapMs).toBe(40);
  });

  it("untimed, a read 30 ms after the last beat (the loop busy since), is true", () => {
    const w = new LoopStallWatch({ clock: () => 0 });
    w.beat(0);
    w.beat(5);
    expect(w.untimed(14)).toBe(false);
    expect(w.untimed(35)).toBe(true);
  });

  it("untimed, before the first beat, is false", () => {
    expect(new LoopStallWatch({ clock: () => 0 }).untimed(100)).toBe(false);
  });

  it("constructor, a zero interval or negative slack, throws a RangeError naming both fields", () => {
    expect(() => new LoopStallWatch({ clock: () => 0, intervalMs: 0 })).toThrow(/intervalMs.*slackMs/);
    expect(() => new LoopStallWatch({ clock: () => 0, slackMs: -1 })).toThrow(RangeError);
  });

  it("start, the real event loop blocked for 60 ms, makes a read right after untimed and counts the stall at the next beat", async () => {
    const w = new LoopStallWatch({ clock: () => performance.now() }).start();
    try {
      await new Promise((r) => setTimeout(r, 20));
      const until = performance.now() + 60;
      while (performance.now() < until) {
        // the loop is busy: no beat can run
      }
      expect(w.untimed(performance.now())).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(w.stalls).toBeGreaterThanOrEqual(1);
      expect(w.longestGapMs).toBeGreaterThanOrEqual(60);
    } finally {
      w.stop();
    }
  });
});

describe("DelayBasedEstimator read by a stalling event loop", () => {
  it("without the watch, stalls of 10-140 ms alone (no queue on the link) pull the estimate down", () => {
    // What the watch is for: if this stopped failing, the model would no longer show the problem.
    const lows = [1, 2, 3].map((seed) => stallingReader({ seed, stallP: 0.02, useWatch: false, seconds: 60 }).lowestBefore);
    expect(Math.min(...lows)).toBeLessThan(0.9 * 600_000);
  });

  it("with the watch, the same stalls leave the estimate at 600 kbps", () => {
    for (const seed of [1, 2, 3]) {
      const r = stallingReader({ seed, stallP: 0.02, useWatch: true, seconds: 60 });
      expect(r.lowestBefore, `seed ${seed}: ${r.untimed} packets untimed, ${r.stalls} stalls`).toBeGreaterThanOrEqual(0.97 * 600_000);
      expect(r.untimed).toBeGreaterThan(0);
    }
  });

  it("with the watch, a link that narrows to 300 kbps under the same stalls is still followed down", () => {
    for (const seed of [1, 2]) {
      const r = stallingReader({ seed, stallP: 0.02, useWatch: true, seconds: 90, narrowAtMs: 60_000, narrowBps: 300_000 });
      expect(r.lowestBefore).toBeGreaterThanOrEqual(0.97 * 600_000);
      expect(r.end, `seed ${seed}`).toBeLessThan(330_000);
    }
  });

  it("untimed packets count as received bytes but not as queue", () => {
    const est = new DelayBasedEstimator({ minBps: 100_000, maxBps: 600_000 });
    for (let t = 0; t < 1000; t += 10) est.onPacket(t, t + 50, 750);
    est.onPacket(1000, 1200, 750, 100, true); // read 150 ms late
    expect(est.queueMs).toBe(0);
    expect(est.untimedPackets).toBe(1);
    expect(est.receivedBps(1200)).toBeGreaterThan(500_000);
  });
});
