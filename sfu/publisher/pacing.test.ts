import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../encoder/synth/prng.ts";
import { FrameRateLimiter } from "./frame-rate.ts";
import { RateMeter } from "./rate-meter.ts";
import { RestartGate } from "./restart-gate.ts";

/** Capture times of a `fps` source over `seconds`, each late by up to `jitterMs`. */
function captures(fps: number, seconds: number, jitterMs = 0, seed = 1): number[] {
  const rand = mulberry32(seed);
  return Array.from({ length: Math.round(fps * seconds) }, (_, i) => (i * 1000) / fps + rand() * jitterMs);
}

function kept(limiter: FrameRateLimiter, times: number[]): number[] {
  return times.filter((t) => limiter.admit(t));
}

describe("FrameRateLimiter", () => {
  for (const [source, target] of [[30, 5], [30, 7], [30, 15], [25, 1], [60, 24]] as const) {
    it(`admit, a ${source} fps source with 8 ms jitter and a ${target} fps target, keeps ${target} frames a second`, () => {
      const out = kept(new FrameRateLimiter(target), captures(source, 20, 8));
      expect(Math.abs(out.length / 20 - target), `kept ${out.length} frames in 20 s`).toBeLessThanOrEqual(0.1);
    });
  }

  it("admit, a 30 fps source with 8 ms jitter and a 30 fps target, keeps every frame", () => {
    const times = captures(30, 10, 8);
    expect(kept(new FrameRateLimiter(30), times).length).toBe(times.length);
  });

  it("admit, no target, keeps every frame", () => {
    expect(kept(new FrameRateLimiter(null), captures(30, 2)).length).toBe(60);
  });

  it("admit, a 2 s stall in the source, does not burst afterwards", () => {
    const limiter = new FrameRateLimiter(5);
    const times = [...captures(30, 1), ...captures(30, 1).map((t) => t + 3000)];
    const out = kept(limiter, times);
    const after = out.filter((t) => t >= 3000);
    // One second at 5 fps: 5 frames, or 6 when the first and last both fall inside the second.
    expect(after.length).toBeGreaterThanOrEqual(5);
    expect(after.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < after.length; i++) expect(after[i]! - after[i - 1]!).toBeGreaterThan(150);
  });

  it("setMaxFps, from 30 to 5 and back, follows the new target from the next frame", () => {
    const limiter = new FrameRateLimiter(null);
    const times = captures(30, 6);
    const first = kept(limiter, times.slice(0, 60));
    limiter.setMaxFps(5);
    const second = kept(limiter, times.slice(60, 120));
    limiter.setMaxFps(null);
    const third = kept(limiter, times.slice(120));
    expect(first.length).toBe(60);
    // Two seconds at 5 fps: 10 frames, 11 when both ends fall inside.
    expect(second.length).toBeGreaterThanOrEqual(10);
    expect(second.length).toBeLessThanOrEqual(11);
    expect(third.length).toBe(60);
  });

  it("constructor, a target of 0, throws a RangeError", () => {
    expect(() => new FrameRateLimiter(0)).toThrow(RangeError);
  });
});

describe("RestartGate", () => {
  it("request, the first request, restarts now", () => {
    expect(new RestartGate(500).request(1000)).toEqual({ kind: "now" });
  });

  it("request, three requests within 500 ms of a restart, schedules one restart at the end of the interval", () => {
    const gate = new RestartGate(500);
    gate.request(1000);
    expect(gate.request(1100)).toEqual({ kind: "later", atMs: 1500, schedule: true });
    expect(gate.request(1200)).toEqual({ kind: "later", atMs: 1500, schedule: false });
    expect(gate.request(1499)).toEqual({ kind: "later", atMs: 1500, schedule: false });
    expect(gate.due(1499)).toBe(false);
    expect(gate.due(1500)).toBe(true);
    expect(gate.due(1501)).toBe(false);
    // The pending restart counts as the last one.
    expect(gate.request(1700).kind).toBe("later");
    expect(gate.request(2100)).toEqual({ kind: "later", atMs: 2000, schedule: false });
  });

  it("request, a request 500 ms or more after the last restart, restarts now", () => {
    const gate = new RestartGate(500);
    gate.request(0);
    expect(gate.request(500)).toEqual({ kind: "now" });
    expect(gate.request(1200)).toEqual({ kind: "now" });
  });

  it("request, over 10 s of requests every 50 ms, restarts at most once per 500 ms", () => {
    const gate = new RestartGate(500);
    const restarts: number[] = [];
    let timerAt: number | null = null;
    for (let t = 0; t <= 10_000; t += 10) {
      if (timerAt !== null && t >= timerAt && gate.due(t)) (restarts.push(t), (timerAt = null));
      if (t % 50 === 0) {
        const d = gate.request(t);
        if (d.kind === "now") restarts.push(t);
        else if (d.schedule) timerAt = d.atMs;
      }
    }
    for (let i = 1; i < restarts.length; i++) expect(restarts[i]! - restarts[i - 1]!).toBeGreaterThanOrEqual(500);
    expect(restarts.length).toBe(21);
  });

  it("cancel, a pending restart, is dropped", () => {
    const gate = new RestartGate(500);
    gate.request(0);
    gate.request(100);
    gate.cancel();
    expect(gate.pending).toBe(false);
    expect(gate.due(600)).toBe(false);
  });
});

describe("RateMeter", () => {
  it("bitrateBps, 30 frames of 1000 bytes in the last second, is 240 kbps; after 2 s of silence, 0", () => {
    const m = new RateMeter(1000);
    for (let i = 0; i < 60; i++) m.add(1000, i * 33.34);
    expect(m.bitrateBps(2000)).toBeCloseTo(240_000, -4);
    expect(m.framerate(2000)).toBeCloseTo(30, 0);
    expect(m.bitrateBps(4000)).toBe(0);
  });
});
