import { describe, expect, it } from "vitest";
import { PlayoutTiming } from "./playout-timing.ts";

/** Frames every 66.7 ms (15 fps) with the given transit times; returns availableMs - captureMs. */
function run(t: PlayoutTiming, transits: readonly number[], nacked: (i: number) => boolean = () => false, rtt = 100, start = 0): number[] {
  return transits.map((tr, k) => {
    const i = start + k;
    const capture = i * (1000 / 15);
    return t.frame(capture, capture + tr, nacked(i), rtt).availableMs - capture;
  });
}

describe("PlayoutTiming (libwebrtc's jitter estimate and current delay)", () => {
  it("on a steady link, holds frames by the OS jitter, decode and render allowances only", () => {
    const d = run(new PlayoutTiming(), Array(100).fill(50));
    // 50 ms transit + (1 noise floor + 10 OS jitter + 5 decode + 10 render) - 10 render = 66 ms.
    expect(d.at(-1)).toBeCloseTo(66, 6);
  });

  it("jitter raises the delay of every frame, not only of the late ones", () => {
    const transits = Array.from({ length: 300 }, (_, i) => 50 + (i % 5 === 0 ? 80 : 0));
    const d = run(new PlayoutTiming(), transits);
    const onTime = d.slice(200).filter((_, k) => (200 + k) % 5 !== 0);
    expect(Math.min(...onTime)).toBeGreaterThan(66 + 20);
  });

  it("after 3 retransmitted frames the round trip is added to the target (kNackLimit)", () => {
    const t = new PlayoutTiming();
    run(t, Array(30).fill(50));
    expect(t.jitterEstimateMs(100)).toBeLessThan(20);
    const nackedAt = new Set([30, 40, 50]);
    const d = run(t, Array(200).fill(50), (i) => nackedAt.has(i), 100, 30);
    expect(t.jitterEstimateMs(100)).toBeGreaterThanOrEqual(110);
    // The current delay follows the target at 100 ms per second: after 13 s it is there.
    expect(d.at(-1)).toBeGreaterThan(50 + 100);
  });

  it("a late frame is handed on when complete, never earlier", () => {
    const t = new PlayoutTiming();
    run(t, Array(20).fill(50));
    const capture = 20 * (1000 / 15);
    expect(t.frame(capture, capture + 400, true, 100).availableMs).toBe(capture + 400);
  });

  it("rejects bad options with the field named", () => {
    expect(() => new PlayoutTiming({ decodeMs: -1 })).toThrow(/decodeMs/);
    expect(() => new PlayoutTiming({ noiseAlpha: 1 })).toThrow(/noiseAlpha/);
  });
});
