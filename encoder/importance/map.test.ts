import { describe, expect, it } from "vitest";
import { EncoderError } from "../errors.ts";
import { assertMapFits, mapFromRegions, mapFromWeights, mergeMaps, resampleMap, uniformMap, weightAt } from "./map.ts";

describe("mapFromRegions", () => {
  it("weights blocks inside the region 1 and far blocks 0, with Artic's fall-off between", () => {
    const map = mapFromRegions(1280, 720, 64, [{ x: 640, y: 320, width: 128, height: 64 }], { dMaxPx: 256, gamma: 2 });
    expect(map.cols).toBe(20);
    expect(map.rows).toBe(12);
    expect(weightAt(map, 700, 350)).toBe(1);
    expect(weightAt(map, 10, 10)).toBe(0);
    // Block (13, 5) has its centre at (864, 352): 96 px right of the region, so resp = 1 - 96/256.
    expect(map.weights[5 * 20 + 13]).toBeCloseTo((1 - 96 / 256) ** 2, 5);
  });

  it("with 16 px blocks and partial edge blocks, covers the whole picture", () => {
    const map = mapFromRegions(1000, 500, 16, [{ x: 990, y: 490, width: 10, height: 10 }]);
    expect(map.cols).toBe(63);
    expect(map.rows).toBe(32);
    expect(weightAt(map, 999, 499)).toBe(1);
  });

  it("with several weighted regions, keeps the largest response per block", () => {
    const map = mapFromRegions(256, 256, 64, [
      { x: 0, y: 0, width: 64, height: 64, weight: 0.4 },
      { x: 0, y: 0, width: 32, height: 32, weight: 0.9 },
    ]);
    expect(weightAt(map, 10, 10)).toBeCloseTo(0.9, 5);
  });

  it("with a region of zero width or a weight above 1, raises INVALID_MAP naming the region", () => {
    expect(() => mapFromRegions(64, 64, 16, [{ x: 0, y: 0, width: 0, height: 4 }])).toThrow(/region 0/);
    try {
      mapFromRegions(64, 64, 16, [{ x: 0, y: 0, width: 4, height: 4 }, { x: 0, y: 0, width: 4, height: 4, weight: 2 }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EncoderError);
      expect((err as EncoderError).code).toBe("INVALID_MAP");
      expect((err as Error).message).toMatch(/region 1 weight/);
    }
  });
});

describe("mapFromWeights and assertMapFits", () => {
  it("with the wrong number of weights, raises MAP_SIZE_MISMATCH stating both counts", () => {
    expect(() => mapFromWeights(128, 128, 64, [1, 0, 0])).toThrow(/needs 2x2=4 weights, got 3/);
  });

  it("with a weight outside [0, 1], names the block", () => {
    expect(() => mapFromWeights(128, 64, 64, [0, 1.5])).toThrow(/weight 1 \(col 1, row 0\)/);
  });

  it("with a map for another picture size, raises MAP_SIZE_MISMATCH", () => {
    const map = uniformMap(640, 360, 16);
    expect(() => assertMapFits(map, 1280, 720)).toThrow(EncoderError);
    expect(() => assertMapFits(map, 640, 360)).not.toThrow();
  });
});

describe("mergeMaps and resampleMap", () => {
  it("merges by maximum or by clamped sum", () => {
    const a = mapFromWeights(128, 64, 64, [0.2, 0.8]);
    const b = mapFromWeights(128, 64, 64, [0.5, 0.5]);
    expect([...mergeMaps([a, b]).weights].map((v) => +v.toFixed(3))).toEqual([0.5, 0.8]);
    expect([...mergeMaps([a, b], "sum").weights].map((v) => +v.toFixed(3))).toEqual([0.7, 1]);
    expect(() => mergeMaps([a, uniformMap(64, 64, 64)])).toThrow(/differ/);
  });

  it("to larger blocks, never loses a small important region", () => {
    const fine = mapFromRegions(1280, 720, 16, [{ x: 600, y: 300, width: 16, height: 16 }], { dMaxPx: 1 });
    const coarse = resampleMap(fine, 1280, 720, 64);
    expect(weightAt(coarse, 610, 310)).toBe(1);
    const scaled = resampleMap(fine, 640, 360, 16);
    expect(weightAt(scaled, 305, 155)).toBe(1);
    expect(weightAt(scaled, 100, 100)).toBe(0);
  });
});
