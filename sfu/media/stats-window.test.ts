import { describe, expect, it } from "vitest";
import { percentile, RtpTimeline, SlidingWindow } from "./stats-window.ts";

describe("stats helpers", () => {
  it("SlidingWindow: sums only the last windowMs", () => {
    const w = new SlidingWindow(1000);
    w.add(0, 100);
    w.add(500, 50);
    w.add(999, 10);
    expect(w.sum(999)).toBe(160);
    expect(w.sum(1000)).toBe(60);
    expect(w.count(1998)).toBe(1);
    expect(w.count(1999)).toBe(0);
  });

  it("percentile: nearest rank", () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
  });

  it("RtpTimeline: unwraps the 32-bit timestamp (RFC 3550 §5.1), 90 ticks per ms", () => {
    const t = new RtpTimeline();
    expect(t.toMs(0xffff_fc00)).toBe(0);
    expect(t.toMs(0x0000_0200)).toBeCloseTo(1536 / 90, 9);
    expect(t.toMs(0xffff_fe00)).toBeCloseTo(512 / 90, 9);
  });
});
