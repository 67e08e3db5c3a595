import { describe, expect, it } from "vitest";
import { mulberry32 } from "../synth/prng.ts";
import { fecEncode, fecFrameSurvival, fecRecover } from "./fec.ts";

function packets(k: number, len: number, seed: number): Uint8Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: k }, () => Uint8Array.from({ length: len }, () => Math.floor(rand() * 256)));
}

/** Every subset of {0..n-1} of size `size`. */
function subsets(n: number, size: number): number[][] {
  if (size === 0) return [[]];
  if (n < size) return [];
  return [...subsets(n - 1, size), ...subsets(n - 1, size - 1).map((s) => [...s, n - 1])];
}

describe("Reed-Solomon erasure code (fec.ts)", () => {
  it("rebuilds the data from any k of k + m packets (every erasure pattern, k = 5, m = 3)", () => {
    const k = 5;
    const m = 3;
    const data = packets(k, 64, 1);
    const all = [...data, ...fecEncode(data, m)];
    let patterns = 0;
    for (let lost = 0; lost <= m; lost++) {
      for (const gone of subsets(k + m, lost)) {
        const got = fecRecover(all.map((p, i) => (gone.includes(i) ? null : p)), k, m);
        expect(got).toEqual(data);
        patterns++;
      }
    }
    expect(patterns).toBe(1 + 8 + 28 + 56);
  });

  it("works at frame sizes the publisher sends (k = 7 packets of 1200 bytes, m = 3)", () => {
    const data = packets(7, 1200, 2);
    const all: (Uint8Array | null)[] = [...data, ...fecEncode(data, 3)];
    all[0] = all[3] = all[6] = null;
    expect(fecRecover(all, 7, 3)).toEqual(data);
  });

  it("says so when too few packets arrived, or the shapes are wrong", () => {
    const data = packets(4, 10, 3);
    const all: (Uint8Array | null)[] = [...data, ...fecEncode(data, 2)];
    all[0] = all[1] = all[2] = null;
    expect(() => fecRecover(all, 4, 2)).toThrow(/only 3 of 6 packets arrived; 4 are needed/);
    expect(() => fecRecover(all.slice(1), 4, 2)).toThrow(/expected 6 slots/);
    expect(() => fecEncode([new Uint8Array(3), new Uint8Array(4)], 1)).toThrow(/packet 1 is 4 bytes/);
    expect(() => fecEncode([], 1)).toThrow(/k\) must be a whole number >= 1/);
    expect(() => fecEncode(packets(200, 1, 4), 57)).toThrow(/at most 256/);
  });

  it("m = 0 adds nothing; with nothing lost the data comes back as it is", () => {
    const data = packets(3, 8, 5);
    expect(fecEncode(data, 0)).toEqual([]);
    expect(fecRecover([...data, ...fecEncode(data, 2)], 3, 2)).toEqual(data);
  });

  it("frame survival matches the binomial sum and a Monte Carlo run", () => {
    expect(fecFrameSurvival(7, 0, 0.1)).toBeCloseTo(0.9 ** 7, 12);
    expect(fecFrameSurvival(7, 3, 0.1)).toBeCloseTo(0.98720, 4);
    const rand = mulberry32(9);
    let whole = 0;
    const n = 20_000;
    for (let t = 0; t < n; t++) {
      let lost = 0;
      for (let i = 0; i < 10; i++) if (rand() < 0.1) lost++;
      if (lost <= 3) whole++;
    }
    expect(Math.abs(whole / n - fecFrameSurvival(7, 3, 0.1))).toBeLessThan(0.005);
    expect(() => fecFrameSurvival(7, 3, 1.5)).toThrow(/loss rate/);
  });
});
