import { describe, expect, it } from "vitest";
import { ModelNeedCap } from "./model-need.ts";

describe("ModelNeedCap", () => {
  it("starts at the configured rate and walks down while the text reads with margin", () => {
    const c = new ModelNeedCap(600_000, { stepDownAfter: 1 });
    expect(c.ladderBps).toEqual([100_000, 150_000, 200_000, 300_000, 400_000, 600_000]);
    expect(c.bitrateBps).toBe(600_000);
    let t = 0;
    for (const want of [400_000, 300_000, 200_000, 150_000, 100_000, 100_000]) {
      c.onReading(0.95, (t += 30_000));
      expect(c.bitrateBps).toBe(want);
    }
  });

  it("holds between the target and the headroom, steps up under the target, and does not probe a bad level again soon", () => {
    const c = new ModelNeedCap(600_000, { holdMs: 60_000, stepDownAfter: 1 });
    c.onReading(0.95, 0); // 400
    c.onReading(0.95, 1); // 300
    expect(c.onReading(0.85, 2)).toBe(false);
    expect(c.bitrateBps).toBe(300_000);
    c.onReading(0.95, 3); // 200
    expect(c.onReading(0.7, 4)).toBe(true); // 200 read badly: back to 300
    expect(c.bitrateBps).toBe(300_000);
    c.onReading(0.99, 5); // 200 is held until 60 004
    expect(c.bitrateBps).toBe(300_000);
    c.onReading(0.99, 60_005);
    expect(c.bitrateBps).toBe(200_000);
  });

  it("goes to the top at once when the text could not be read at all", () => {
    const c = new ModelNeedCap(600_000, { stepDownAfter: 1 });
    for (let i = 0; i < 4; i++) c.onReading(1, i);
    expect(c.bitrateBps).toBe(150_000);
    c.onReading(0, 10);
    expect(c.bitrateBps).toBe(600_000);
  });

  it("by default steps down only after two readings in a row with margin", () => {
    const c = new ModelNeedCap(600_000);
    c.onReading(0.95, 0);
    expect(c.bitrateBps).toBe(600_000);
    c.onReading(0.95, 1);
    expect(c.bitrateBps).toBe(400_000);
    c.onReading(0.95, 2);
    c.onReading(0.85, 3); // between target and headroom: the run starts again
    c.onReading(0.95, 4);
    expect(c.bitrateBps).toBe(400_000);
    c.onReading(0.95, 5);
    expect(c.bitrateBps).toBe(300_000);
    expect(() => new ModelNeedCap(600_000, { stepDownAfter: 0 })).toThrow(/stepDownAfter/);
  });

  it("keeps only levels under the configured rate, which is the top", () => {
    const c = new ModelNeedCap(240_000, { levelsBps: [300_000, 100_000, 100_000, 200_000] });
    expect(c.ladderBps).toEqual([100_000, 200_000, 240_000]);
  });

  it("ignores readings that are not a number in [0, 1] and survives clock jumps", () => {
    const c = new ModelNeedCap(600_000, { stepDownAfter: 1 });
    for (const bad of [Number.NaN, -0.1, 1.5, Infinity]) expect(c.onReading(bad, 0)).toBe(false);
    expect(c.onReading(0.95, Number.NaN)).toBe(false);
    expect(c.ignored).toBe(5);
    expect(c.bitrateBps).toBe(600_000);
    // No reading (a miss more bits would not fix): nothing moves.
    expect(c.onReading(undefined, 0)).toBe(false);
    // A clock that jumps back leaves a held level held a little longer, never stuck for good.
    c.onReading(0.95, 1_000_000); // 400
    c.onReading(0.5, 1_000_001); // 400 held until 1 120 001; back to 600
    expect(c.bitrateBps).toBe(600_000);
    c.onReading(0.95, 0); // clock jumped back: 400 still held
    expect(c.bitrateBps).toBe(600_000);
    c.onReading(0.95, 1_120_002);
    expect(c.bitrateBps).toBe(400_000);
  });

  it("forget() goes back to the top and counts good readings afresh; held levels stay held", () => {
    const c = new ModelNeedCap(600_000);
    c.onReading(0.95, 0);
    c.onReading(0.95, 1); // two in a row: 400
    c.onReading(0.95, 2);
    c.onReading(0.95, 3); // 300
    c.onReading(0.5, 4); // 300 held; back to 400
    c.onReading(0.95, 5); // one good reading at 400 counted
    expect(c.bitrateBps).toBe(400_000);
    expect(c.forget()).toBe(true);
    expect(c.bitrateBps).toBe(600_000);
    expect(c.forget()).toBe(false);
    c.onReading(0.95, 6); // the count started again: one is not enough
    expect(c.bitrateBps).toBe(600_000);
    c.onReading(0.95, 7);
    c.onReading(0.95, 8);
    c.onReading(0.95, 9);
    expect(c.bitrateBps).toBe(400_000); // 300 is still held
  });

  it("refuses options that make no ladder", () => {
    expect(() => new ModelNeedCap(0)).toThrow(/maxBps/);
    expect(() => new ModelNeedCap(600_000, { target: 0 })).toThrow(/target/);
    expect(() => new ModelNeedCap(600_000, { target: 0.8, headroom: 0.7 })).toThrow(/headroom/);
    expect(() => new ModelNeedCap(600_000, { levelsBps: [100_000, -5] })).toThrow(/level/);
    expect(() => new ModelNeedCap(600_000, { holdMs: Number.NaN })).toThrow(/holdMs/);
  });
});
