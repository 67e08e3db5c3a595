import { describe, expect, it } from "vitest";
import { fecMediaShare, parityFor } from "../../encoder/rtp/frame-fec.ts";
import { fecBudget, FecRateBudget, MAX_BUDGETED_LOSS, parityForFrame } from "./fec-budget.ts";

describe("fecBudget", () => {
  it("gives the encoder all of the cap without loss, and k / (k + m) of it with loss, so media + parity stays within the cap", () => {
    expect(fecBudget(600_000, 15, 0)).toEqual({ capBps: 600_000, fps: 15, lossRate: 0, share: 1, mediaBps: 600_000, k: 5, m: 0 });
    expect(fecBudget(600_000, 15, null).mediaBps, "no receiver report yet: no parity").toBe(600_000);
    // 5% loss: 360 kbps for media, a typical frame 3000 B = 3 packets + 2 parity packets.
    expect(fecBudget(600_000, 15, 0.05)).toMatchObject({ share: 0.6, mediaBps: 360_000, k: 3, m: 2 });
    expect(fecBudget(600_000, 15, 0.1)).toMatchObject({ share: 0.5, mediaBps: 300_000, k: 3, m: 3 });
    for (const [cap, fps, loss] of [[600_000, 15, 0.05], [600_000, 15, 0.1], [240_000, 10, 0.1], [1_500_000, 30, 0.03], [100_000, 5, 0.2]] as const) {
      const b = fecBudget(cap, fps, loss);
      // The typical frame at the media bitrate, and what it sends with its parity (packets of about equal length).
      expect(b.k).toBe(Math.max(1, Math.ceil(b.mediaBps / fps / 9600)));
      expect(b.m).toBe(parityFor(b.k, loss));
      expect(b.mediaBps * (b.k + b.m) / b.k, `media + parity at ${cap} bps, ${fps} fps, ${loss} loss`).toBeLessThanOrEqual(cap * 1.0001);
      expect(b.share).toBe(fecMediaShare({ bitrateBps: cap, fps, lossRate: loss }));
    }
  });

  it("more loss never gives the encoder more; losses beyond MAX_BUDGETED_LOSS count as it; bad caps and rates are RangeErrors", () => {
    let last = Infinity;
    for (let l = 0; l <= 0.3; l += 0.01) {
      const b = fecBudget(600_000, 15, l);
      expect(b.mediaBps).toBeLessThanOrEqual(last);
      last = b.mediaBps;
    }
    expect(fecBudget(600_000, 15, 0.9)).toEqual(fecBudget(600_000, 15, MAX_BUDGETED_LOSS));
    expect(() => fecBudget(0, 15, 0.1)).toThrow(/capBps/);
    expect(() => fecBudget(600_000, 0, 0.1)).toThrow(/fps/);
  });
});

describe("parityForFrame", () => {
  it("is parityFor at the smoothed loss; none before a report, at zero loss, or for a frame too long for one parity group", () => {
    expect(parityForFrame(3, 0.1)).toBe(3);
    expect(parityForFrame(8, 0.1)).toBe(parityFor(8, 0.1));
    expect(parityForFrame(3, null)).toBe(0);
    expect(parityForFrame(3, 0)).toBe(0);
    expect(parityForFrame(255, 0.01)).toBe(1);
    expect(parityForFrame(256, 0.1)).toBe(0);
    expect(parityForFrame(3, 0.9)).toBe(parityFor(3, MAX_BUDGETED_LOSS));
  });
});

describe("FecRateBudget", () => {
  it("takes more parity at once, less only once the loss is clearly lower (hysteresis), and any cap or frame-rate change as it is", () => {
    expect(fecBudget(600_000, 15, 0.025).mediaBps, "the step the hysteresis holds back").toBe(432_000);
    const b = new FecRateBudget(0.25);
    const steps = [null, 0.05, 0.045, 0.04, 0.03, 0.025, 0.02, 0.01, 0.06, 0];
    const seen = steps.map((l) => {
      const r = b.update(600_000, 15, l);
      return [l, r.changed, r.budget.mediaBps];
    });
    expect(seen).toEqual([
      [null, true, 600_000],
      [0.05, true, 360_000],
      // Between the 2-parity and 1-parity steps: the loss raised by 25% still needs 2, so it stays.
      [0.045, false, 360_000],
      [0.04, false, 360_000],
      [0.03, false, 360_000],
      // 2.5% alone would give 432 kbps, but 2.5% + 25% still needs 360: held.
      [0.025, false, 360_000],
      [0.02, true, 480_000],
      [0.01, false, 480_000],
      [0.06, true, 360_000],
      [0, true, 600_000],
    ]);
    expect(b.current).toMatchObject({ mediaBps: 600_000, m: 0 });
    // A new cap applies at once, hysteresis or not.
    b.update(600_000, 15, 0.05);
    expect(b.update(300_000, 15, 0.045)).toMatchObject({ changed: true, budget: fecBudget(300_000, 15, 0.045) });
    expect(() => new FecRateBudget(-1)).toThrow(/margin/);
  });

  it("without hysteresis (margin 0) follows fecBudget exactly", () => {
    const b = new FecRateBudget(0);
    for (const l of [0.1, 0.02, 0.05, 0.01, 0]) expect(b.update(600_000, 15, l).budget).toEqual(fecBudget(600_000, 15, l));
  });
});
