import { describe, expect, it } from "vitest";
import { mapFromWeights } from "./map.ts";
import { extrapolateRegion, MapSmoother } from "./temporal.ts";

describe("MapSmoother", () => {
  it("with instant rise and a 1 s fall, jumps up at once and decays by 1/e per second", () => {
    const s = new MapSmoother({ riseMs: 0, fallMs: 1000 });
    s.update(mapFromWeights(64, 64, 64, [0]), 0);
    expect(s.update(mapFromWeights(64, 64, 64, [1]), 100).weights[0]).toBe(1);
    expect(s.update(mapFromWeights(64, 64, 64, [0]), 1100).weights[0]).toBeCloseTo(Math.exp(-1), 5);
  });

  it("with a clock that goes backwards, raises an error", () => {
    const s = new MapSmoother();
    s.update(mapFromWeights(64, 64, 64, [0]), 500);
    expect(() => s.update(mapFromWeights(64, 64, 64, [0]), 400)).toThrow(/backwards/);
  });
});

describe("extrapolateRegion", () => {
  it("with a region moving 100 px/s to the right, predicts it 1.5 s ahead and grows the box", () => {
    const obs = [0, 250, 500, 750, 1000].map((t) => ({ tMs: t, region: { x: 100 + t / 10, y: 50, width: 40, height: 20 } }));
    const r = extrapolateRegion(obs, 2500);
    // Centre moves 150 px; box grows by half the travel on each side.
    expect(r.x + r.width / 2).toBeCloseTo(200 + 20 + 150, 5);
    expect(r.width).toBeCloseTo(40 + 150, 5);
    expect(r.height).toBeCloseTo(20, 5);
  });

  it("with one observation or a still region, returns the region unchanged", () => {
    const still = { x: 10, y: 10, width: 5, height: 5 };
    expect(extrapolateRegion([{ tMs: 0, region: still }], 1000)).toEqual(still);
    expect(extrapolateRegion([{ tMs: 0, region: still }, { tMs: 500, region: still }], 1500)).toEqual(still);
  });
});
