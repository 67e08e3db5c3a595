import { describe, expect, it } from "vitest";
import { mapFromRegions, mapFromWeights, uniformMap } from "../importance/map.ts";
import { allocateForBudget, calibrateRateModel } from "./budget.ts";
import { blockComplexity } from "./complexity.ts";
import { qpOffsetFor, qpOffsetMap } from "./qp.ts";
import { offsetMapToRects } from "./rois.ts";

describe("qpOffsetFor (Artic's formula)", () => {
  it("gives 0 in the region, 25 far away, and clamp(round(51(1-w)-26)) between", () => {
    expect(qpOffsetFor(1)).toBe(0);
    expect(qpOffsetFor(0)).toBe(25);
    expect(qpOffsetFor(0.3)).toBe(Math.round(51 * 0.7 - 26));
    expect(qpOffsetFor(0.5)).toBe(0);
  });

  it("with a configured range, clamps to it", () => {
    expect(qpOffsetFor(0, { maxOffset: 10 })).toBe(10);
    expect(qpOffsetFor(1, { minOffset: -5, bias: 40 })).toBe(-5);
    expect(() => qpOffsetMap(uniformMap(64, 64, 64), { minOffset: 3, maxOffset: 1 })).toThrow(/maxOffset/);
  });
});

describe("allocateForBudget", () => {
  const map = mapFromRegions(640, 384, 64, [{ x: 256, y: 128, width: 128, height: 128 }], { dMaxPx: 128 });
  const complexity = new Float32Array(map.weights.length).fill(10);
  // Calibrated so that a uniform QP 40 costs 20 kbit per frame.
  const model = calibrateRateModel(20_000, 40, complexity);

  it("with a tight budget, puts the background at QP 51 and lands on the budget", () => {
    const a = allocateForBudget(map, { targetBitsPerFrame: 8_000, complexity, model });
    expect(a.regime).toBe("budget-limited");
    expect(a.qpBackground).toBe(51);
    // The same budget spread evenly would need a uniform QP of 40 + 6 log2(20000 / 8000) = 47.9.
    const uniformQp = 40 + 6 * Math.log2(20_000 / 8_000);
    expect(a.qpRoi).toBeLessThan(uniformQp - 3);
    expect(a.predictedBitsPerFrame).toBeCloseTo(8_000, -1);
  });

  it("with a generous budget, holds the region at the floor and spends the rest on the background", () => {
    const a = allocateForBudget(map, { targetBitsPerFrame: 100_000, complexity, model, qpFloor: 24 });
    expect(a.regime).toBe("quality-ceiling");
    expect(a.qpRoi).toBe(24);
    expect(a.qpBackground).toBeGreaterThan(24);
    expect(a.qpBackground).toBeLessThan(51);
    expect(a.predictedBitsPerFrame).toBeCloseTo(100_000, -2);
  });

  it("with a budget above what the floor costs everywhere, treats every block alike", () => {
    const a = allocateForBudget(map, { targetBitsPerFrame: 10_000_000, complexity, model });
    expect(a.regime).toBe("uniform");
    expect(Math.max(...a.offsets.offsets)).toBe(0);
  });

  it("gives the important region a finer QP as the budget grows", () => {
    const q = [6_000, 10_000, 16_000].map((t) => allocateForBudget(map, { targetBitsPerFrame: t, complexity, model }).qpRoi);
    expect(q[0]!).toBeGreaterThan(q[1]!);
    expect(q[1]!).toBeGreaterThan(q[2]!);
  });

  it("with a zero or negative budget, raises INVALID_BITRATE", () => {
    expect(() => allocateForBudget(map, { targetBitsPerFrame: 0, model })).toThrow(/must be > 0/);
    expect(() => allocateForBudget(map, { targetBitsPerFrame: -5, model })).toThrow(expect.objectContaining({ code: "INVALID_BITRATE" }));
  });

  it("with a complexity map of the wrong size, raises MAP_SIZE_MISMATCH", () => {
    expect(() => allocateForBudget(map, { targetBitsPerFrame: 1000, model, complexity: new Float32Array(3) })).toThrow(expect.objectContaining({ code: "MAP_SIZE_MISMATCH" }));
  });
});

describe("offsetMapToRects", () => {
  it("covers every non-zero block exactly once, first rectangle most negative", () => {
    const map = mapFromRegions(320, 192, 32, [{ x: 96, y: 64, width: 64, height: 64 }], { dMaxPx: 96 });
    const offsets = qpOffsetMap(map);
    const rel = { ...offsets, offsets: offsets.offsets.map((v) => v - 25) };
    const rects = offsetMapToRects(rel);
    const cover = new Float32Array(map.cols * map.rows);
    const hits = new Uint8Array(map.cols * map.rows);
    for (const r of rects) {
      for (let y = r.y; y < r.y + r.height; y += 32) {
        for (let x = r.x; x < r.x + r.width; x += 32) {
          const i = (y / 32) * map.cols + x / 32;
          cover[i] = r.qpOffset;
          hits[i]!++;
        }
      }
    }
    for (let i = 0; i < cover.length; i++) {
      expect(cover[i]).toBe(Math.round(rel.offsets[i]!) + 0);
      expect(hits[i]).toBe(rel.offsets[i] === 0 ? 0 : 1);
    }
    expect(rects[0]!.qpOffset).toBe(-25);
    expect(rects.length).toBeLessThan(map.cols * map.rows);
  });

  it("with maxLevels 3 (VP8's segments), uses at most 3 distinct offsets", () => {
    const w = Array.from({ length: 40 }, (_, i) => i / 39);
    const map = mapFromWeights(640, 16, 16, w);
    const rects = offsetMapToRects(qpOffsetMap(map, { minOffset: -30, bias: 60, maxOffset: 0 }), { maxLevels: 3 });
    expect(new Set(rects.map((r) => r.qpOffset)).size).toBeLessThanOrEqual(3);
  });
});

describe("blockComplexity", () => {
  it("rates a noisy block above a flat one, and a changing block above a still one", () => {
    const w = 32;
    const h = 16;
    const a = new Uint8Array(w * h).fill(100);
    const b = new Uint8Array(w * h).fill(100);
    for (let y = 0; y < h; y++) {
      for (let x = 16; x < 32; x++) a[y * w + x] = b[y * w + x] = (x + y) % 2 ? 0 : 255;
    }
    const still = blockComplexity([a, b], w, h, 16);
    expect(still[1]!).toBeGreaterThan(50 * still[0]!);
    b.fill(30, 0, 8);
    const moving = blockComplexity([a, b], w, h, 16);
    expect(moving[0]!).toBeGreaterThan(still[0]!);
  });
});
