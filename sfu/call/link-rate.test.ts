import { describe, expect, it } from "vitest";
import { LinkRateController } from "./link-rate.ts";

describe("LinkRateController", () => {
  it("with 30% frame loss, cuts by 15% per interval down to the floor; with none, grows 5% back to the ceiling", () => {
    const c = new LinkRateController({ minBps: 100_000, maxBps: 600_000 });
    c.update(0, 0, 0);
    expect(c.update(3, 7, 1000)).toBeCloseTo(600_000 * 0.85, 0);
    expect(c.update(6, 14, 2000)).toBeCloseTo(600_000 * 0.85 ** 2, 0);
    for (let t = 3000, lost = 6, good = 14; t < 40_000; t += 1000) c.update((lost += 7), (good += 3), t);
    expect(c.bitrateBps).toBe(100_000);
    let b = c.bitrateBps;
    for (let t = 40_000, good = 1000; t < 80_000; t += 1000) {
      const next = c.update(1000, (good += 15), t);
      expect(next).toBeGreaterThanOrEqual(b);
      b = next;
    }
    expect(c.bitrateBps).toBe(600_000);
  });

  it("between 2% and 10% loss holds; within one interval or with no frames does nothing", () => {
    const c = new LinkRateController({ minBps: 100_000, maxBps: 600_000 });
    c.update(0, 0, 0);
    c.update(4, 6, 1000); // 40% loss
    const held = c.bitrateBps;
    expect(c.update(9, 101, 2000)).toBe(held); // 5 of 100: hold
    expect(c.update(60, 101, 2500)).toBe(held); // too soon: counted at the next interval
    expect(c.update(9, 101, 3000)).toBe(held); // no new frames since 2000 ms
  });

  it("update, 15% loss without a standing queue (not congestion), holds; with one, cuts", () => {
    const c = new LinkRateController({ minBps: 100_000, maxBps: 600_000 });
    c.update(0, 0, 0);
    expect(c.update(15, 85, 1000, false)).toBe(600_000);
    expect(c.update(30, 170, 2000, true)).toBeCloseTo(600_000 * (1 - 0.5 * 0.15), 0);
    // Little loss still lets it grow, queue or not.
    expect(c.update(30, 270, 3000, false)).toBeCloseTo(600_000 * (1 - 0.5 * 0.15) * 1.05, 0);
  });
});
