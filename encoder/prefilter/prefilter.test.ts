import { describe, expect, it } from "vitest";
import { EncoderError } from "../errors.ts";
import { mapFromWeights, type ImportanceMap } from "../importance/map.ts";
import { mulberry32 } from "../synth/prng.ts";
import {
  RoiPrefilter,
  createI420,
  defaultMaxRadius,
  i420FromBuffer,
  i420Size,
  i420ToBuffer,
  prefilterStrength,
  type I420Frame,
  type PrefilterMode,
} from "./index.ts";

const MODES: PrefilterMode[] = ["blur", "downsample", "flatten"];
// 128x96 pictures with 16 px blocks: an 8x6 grid.
const W = 128;
const H = 96;
const B = 16;


function noiseI420(w: number, h: number, seed: number): I420Frame {
  const f = createI420(w, h);
  const rnd = mulberry32(seed);
  for (const p of [f.y, f.u, f.v]) for (let i = 0; i < p.length; i++) p[i] = Math.floor(rnd() * 256);
  return f;
}

function blockMap(w: number, h: number, b: number, weightOf: (bx: number, by: number) => number): ImportanceMap {
  const cols = Math.ceil(w / b);
  const rows = Math.ceil(h / b);
  return mapFromWeights(w, h, b, Array.from({ length: cols * rows }, (_, i) => weightOf(i % cols, Math.floor(i / cols))));
}

/** Region A: blocks (0..2, 0..2), pixels [0, 48) x [0, 48), weight 1; everything else weight 0. */
const regionA = (bx: number, by: number): number => (bx < 3 && by < 3 ? 1 : 0);

interface Stats { mean: number; variance: number; hf: number }

/** Mean, variance and high-frequency energy (sum of |x[i] - x[i-1]| along rows) of a rectangle. */
function stats(p: ArrayLike<number>, planeW: number, x0: number, y0: number, x1: number, y1: number, step = 1, offset = 0): Stats {
  let s = 0, s2 = 0, n = 0, hf = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const v = p[(y * planeW + x) * step + offset]!;
      s += v;
      s2 += v * v;
      n++;
      if (x > x0) hf += Math.abs(v - p[(y * planeW + x - 1) * step + offset]!);
    }
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean, hf };
}

/** Number of samples that differ between a and b inside a rectangle. */
function diffCount(a: ArrayLike<number>, b: ArrayLike<number>, planeW: number, x0: number, y0: number, x1: number, y1: number, step = 1, offset = 0): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (a[(y * planeW + x) * step + offset] !== b[(y * planeW + x) * step + offset]) n++;
  return n;
}

function caught(fn: () => unknown): EncoderError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EncoderError);
    return e as EncoderError;
  }
  throw new Error("expected an EncoderError");
}

describe("prefilterStrength", () => {
  it("prefilterStrength, weight at or above the threshold, returns 0", () => {
    expect(prefilterStrength(1, { maxRadius: 10 })).toBe(0);
    expect(prefilterStrength(0.9, { maxRadius: 10 })).toBe(0);
    expect(prefilterStrength(0.5, { maxRadius: 10, threshold: 0.5 })).toBe(0);
  });

  it("prefilterStrength, weight falling from the threshold to 0, grows linearly to maxRadius", () => {
    expect(prefilterStrength(0, { maxRadius: 10 })).toBe(10);
    expect(prefilterStrength(0.45, { maxRadius: 10 })).toBeCloseTo(5, 6);
    expect(prefilterStrength(0.2, { maxRadius: 10 })).toBeGreaterThan(prefilterStrength(0.4, { maxRadius: 10 }));
    expect(prefilterStrength(Number.NaN, { maxRadius: 10 })).toBe(0);
  });

  it("prefilterStrength, no maxRadius but a picture size, derives maxRadius from the size", () => {
    expect(defaultMaxRadius(1280, 720)).toBe(16);
    expect(defaultMaxRadius(640, 360)).toBe(8);
    expect(defaultMaxRadius(160, 90)).toBe(4);
    expect(prefilterStrength(0, { width: 1280, height: 720 })).toBe(16);
  });

  it("prefilterStrength, neither maxRadius nor size, or a bad threshold, throws INVALID_OPTION", () => {
    expect(caught(() => prefilterStrength(0)).code).toBe("INVALID_OPTION");
    expect(caught(() => prefilterStrength(0, { maxRadius: 4, threshold: 0 })).code).toBe("INVALID_OPTION");
  });
});

describe("I420 buffers", () => {
  it("i420FromBuffer, a buffer of one odd-sized frame, views the three planes and round-trips", () => {
    const buf = Uint8Array.from({ length: i420Size(5, 3) }, (_, i) => i);
    expect(buf.length).toBe(15 + 2 * 3 * 2);
    const f = i420FromBuffer(buf, 5, 3);
    expect([f.y.length, f.u.length, f.v.length]).toEqual([15, 6, 6]);
    expect(f.u[0]).toBe(15);
    expect(f.v[0]).toBe(21);
    expect(i420ToBuffer(f)).toEqual(buf);
  });

  it("i420FromBuffer, a buffer of the wrong length, throws INVALID_SIZE naming both sizes", () => {
    const e = caught(() => i420FromBuffer(new Uint8Array(100), W, H));
    expect(e.code).toBe("INVALID_SIZE");
    expect(e.message).toContain("128x96");
    expect(e.message).toContain(String(i420Size(W, H)));
    expect(e.message).toContain("100");
  });
});

describe("RoiPrefilter on I420", () => {
  it.each(MODES)("applyI420 (%s), pixels inside a weight-1 region, come out bit-exact in Y, U and V", (mode) => {
    const src = noiseI420(W, H, 1);
    const out = new RoiPrefilter({ mode, maxRadius: 8 }).applyI420(src, blockMap(W, H, B, regionA));
    expect(diffCount(src.y, out.y, W, 0, 0, 48, 48)).toBe(0);
    expect(diffCount(src.u, out.u, W / 2, 0, 0, 24, 24)).toBe(0);
    expect(diffCount(src.v, out.v, W / 2, 0, 0, 24, 24)).toBe(0);
    // ...and the rest of the picture did change.
    expect(diffCount(src.y, out.y, W, 64, 0, W, H)).toBeGreaterThan(0.9 * 64 * H);
  });

  it.each(MODES)("applyI420 (%s), random noise in weight-0 blocks, cuts the variance > 50x (chroma > 20x) and keeps the mean within 2 levels", (mode) => {
    const src = noiseI420(W, H, 2);
    const out = new RoiPrefilter({ mode, maxRadius: 8 }).applyI420(src, blockMap(W, H, B, regionA));
    // Blocks 4..7 of every row: weight 0 with weight-0 neighbours, so at full strength.
    const before = stats(src.y, W, 64, 0, W, H);
    const after = stats(out.y, W, 64, 0, W, H);
    expect(before.variance / after.variance).toBeGreaterThan(50);
    expect(before.hf / after.hf).toBeGreaterThan(20);
    expect(Math.abs(after.mean - before.mean)).toBeLessThan(2);
    const cBefore = stats(src.u, W / 2, 32, 0, W / 2, H / 2);
    const cAfter = stats(out.u, W / 2, 32, 0, W / 2, H / 2);
    expect(cBefore.variance / cAfter.variance).toBeGreaterThan(20);
    expect(Math.abs(cAfter.mean - cBefore.mean)).toBeLessThan(2);
  });

  it.each(MODES)("applyI420 (%s), a flat frame, stays flat up to the picture edges", (mode) => {
    const src = createI420(37, 23);
    src.y.fill(77);
    src.u.fill(128);
    src.v.fill(200);
    const out = new RoiPrefilter({ mode, maxRadius: 6 }).applyI420(src, blockMap(37, 23, 8, () => 0));
    expect(out.y.every((v) => v === 77) && out.u.every((v) => v === 128) && out.v.every((v) => v === 200)).toBe(true);
  });

  it.each(MODES)("applyI420 (%s), odd frame size with partial blocks, keeps the important region bit-exact", (mode) => {
    const src = noiseI420(37, 23, 3);
    const map = blockMap(37, 23, 8, (bx, by) => (bx === 4 && by >= 1 ? 1 : 0)); // x [32, 37), y [8, 23)
    const out = new RoiPrefilter({ mode, maxRadius: 6 }).applyI420(src, map);
    expect(diffCount(src.y, out.y, 37, 32, 8, 37, 23)).toBe(0);
    expect(diffCount(src.u, out.u, 19, 16, 4, 19, 12)).toBe(0);
    expect(diffCount(src.y, out.y, 37, 0, 0, 24, 23)).toBeGreaterThan(0);
  });

  it.each(MODES)("applyI420 (%s), no output frame given, leaves the input untouched; out === input filters in place alike", (mode) => {
    const src = noiseI420(W, H, 4);
    const copy = i420ToBuffer(src);
    const map = blockMap(W, H, B, regionA);
    const fresh = new RoiPrefilter({ mode }).applyI420(src, map);
    expect(i420ToBuffer(src)).toEqual(copy);
    const inPlace = new RoiPrefilter({ mode }).applyI420(src, map, src);
    expect(inPlace).toBe(src);
    expect(i420ToBuffer(src)).toEqual(i420ToBuffer(fresh));
  });

  it("applyI420 (blur), weights changing from block to block, changes blur strength gradually across block edges", () => {
    // A seam (a block-constant radius) would cut the row-to-row energy ~7x between two adjacent
    // columns where radius 0 meets 1.3 px; the interpolated field keeps every step below 2x.
    const h = 512;
    const src = noiseI420(W, h, 5);
    const weights = [1, 1, 0.75, 0.5, 0.25, 0, 0, 0];
    const out = new RoiPrefilter({ mode: "blur", maxRadius: 8 }).applyI420(src, blockMap(W, h, B, (bx) => weights[bx]!));
    const energy = Array.from({ length: W }, (_, x) => {
      let s = 0;
      for (let y = 1; y < h; y++) s += Math.abs(out.y[y * W + x]! - out.y[(y - 1) * W + x]!);
      return s / (h - 1);
    });
    for (let x = 1; x < W; x++) {
      if (energy[x]! < 5 && energy[x - 1]! < 5) continue; // fully smoothed: ratios of tiny numbers
      expect(Math.max(energy[x]! / energy[x - 1]!, energy[x - 1]! / energy[x]!)).toBeLessThan(2);
    }
  });
});

describe("RoiPrefilter maps", () => {
  const left = (bx: number): number => (bx < 4 ? 1 : 0);
  const right = (bx: number): number => (bx >= 4 ? 1 : 0);

  it("applyI420, a new map for the next frame, moves the sharp region with it", () => {
    const pf = new RoiPrefilter({ mode: "blur", maxRadius: 8 });
    const src = noiseI420(W, H, 6);
    const one = pf.applyI420(src, blockMap(W, H, B, left));
    expect(diffCount(src.y, one.y, W, 0, 0, 64, H)).toBe(0);
    expect(stats(src.y, W, 80, 0, W, H).variance / stats(one.y, W, 80, 0, W, H).variance).toBeGreaterThan(20);
    const two = pf.applyI420(src, blockMap(W, H, B, right));
    expect(diffCount(src.y, two.y, W, 64, 0, W, H)).toBe(0);
    expect(stats(src.y, W, 0, 0, 48, H).variance / stats(two.y, W, 0, 0, 48, H).variance).toBeGreaterThan(20);
  });

  it("applyI420, the same map object with its weights changed in place, follows the new weights", () => {
    const pf = new RoiPrefilter({ mode: "flatten" });
    const src = noiseI420(W, H, 7);
    const map = blockMap(W, H, B, left);
    pf.applyI420(src, map);
    map.weights.forEach((_, i) => (map.weights[i] = right(i % 8)));
    const two = pf.applyI420(src, map);
    expect(diffCount(src.y, two.y, W, 64, 0, W, H)).toBe(0);
    expect(diffCount(src.y, two.y, W, 0, 0, 48, H)).toBeGreaterThan(0.9 * 48 * H);
  });

  it("applyI420, a map made for another picture size, is resampled to the frame", () => {
    const src = noiseI420(W, H, 8);
    const small = blockMap(64, 48, 8, regionA); // the same region at half size
    const out = new RoiPrefilter({ mode: "downsample", maxRadius: 8 }).applyI420(src, small);
    expect(diffCount(src.y, out.y, W, 0, 0, 48, 48)).toBe(0);
    expect(stats(src.y, W, 64, 0, W, H).variance / stats(out.y, W, 64, 0, W, H).variance).toBeGreaterThan(20);
  });

  it("applyI420, a map with zero blocks, throws MAP_SIZE_MISMATCH naming the map and frame sizes", () => {
    const empty: ImportanceMap = { width: W, height: H, blockSize: B, cols: 0, rows: 0, weights: new Float32Array(0) };
    const e = caught(() => new RoiPrefilter().applyI420(createI420(W, H), empty));
    expect(e.code).toBe("MAP_SIZE_MISMATCH");
    expect(e.message).toContain("0x0 blocks");
    expect(e.message).toContain("128x96");
  });

  it("applyI420, a map whose grid does not match its own picture size, throws MAP_SIZE_MISMATCH", () => {
    const bad: ImportanceMap = { width: W, height: H, blockSize: B, cols: 4, rows: 3, weights: new Float32Array(12) };
    const e = caught(() => new RoiPrefilter().applyI420(createI420(W, H), bad));
    expect(e.code).toBe("MAP_SIZE_MISMATCH");
    expect(e.message).toContain("4x3");
    expect(e.message).toContain("8x6");
  });
});

describe("RoiPrefilter input checks", () => {
  it("applyI420, a frame whose chroma plane is too short, throws INVALID_SIZE naming the plane sizes", () => {
    const f = createI420(W, H);
    const e = caught(() => new RoiPrefilter().applyI420({ ...f, u: f.u.subarray(1) }, blockMap(W, H, B, regionA)));
    expect(e.code).toBe("INVALID_SIZE");
    expect(e.message).toContain("128x96");
    expect(e.message).toContain("U 3072");
    expect(e.message).toContain("U 3071");
  });

  it("applyI420, an output frame of another size, throws INVALID_SIZE", () => {
    const e = caught(() => new RoiPrefilter().applyI420(createI420(W, H), blockMap(W, H, B, regionA), createI420(64, 48)));
    expect(e.code).toBe("INVALID_SIZE");
    expect(e.message).toContain("64x48");
  });

  it("applyRgba, data of the wrong length, throws INVALID_SIZE naming both sizes", () => {
    const e = caught(() => new RoiPrefilter().applyRgba(new Uint8ClampedArray(10), W, H, blockMap(W, H, B, regionA)));
    expect(e.code).toBe("INVALID_SIZE");
    expect(e.message).toContain("128x96");
    expect(e.message).toContain(String(W * H * 4));
  });

  it("constructor, unknown mode or out-of-range threshold or radius, throws INVALID_OPTION", () => {
    for (const opts of [{ mode: "sharpen" as PrefilterMode }, { threshold: 1.5 }, { threshold: 0 }, { maxRadius: -1 }]) {
      expect(caught(() => new RoiPrefilter(opts)).code).toBe("INVALID_OPTION");
    }
  });
});

describe("RoiPrefilter on RGBA", () => {
  it.each(MODES)("applyRgba (%s), a gray noise picture, leaves alpha untouched and each of R, G, B equal to applyI420's luma", (mode) => {
    const frame = noiseI420(W, H, 9);
    const rnd = mulberry32(10);
    const rgba = new Uint8ClampedArray(W * H * 4);
    for (let i = 0; i < W * H; i++) {
      rgba.fill(frame.y[i]!, 4 * i, 4 * i + 3);
      rgba[4 * i + 3] = Math.floor(rnd() * 256);
    }
    const copy = rgba.slice();
    const map = blockMap(W, H, B, regionA);
    const out = new RoiPrefilter({ mode, maxRadius: 8 }).applyRgba(rgba, W, H, map);
    const luma = new RoiPrefilter({ mode, maxRadius: 8 }).applyI420(frame, map).y;
    expect(rgba).toEqual(copy);
    expect(diffCount(copy, out, W, 0, 0, W, H, 4, 3)).toBe(0);
    let mismatches = 0;
    for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) if (out[4 * i + c] !== luma[i]) mismatches++;
    expect(mismatches).toBe(0);
    // Sharp inside, smooth outside, in the channels themselves.
    expect(diffCount(copy, out, W, 0, 0, 48, 48, 4, 1)).toBe(0);
    expect(stats(copy, W, 64, 0, W, H, 4, 2).variance / stats(out, W, 64, 0, W, H, 4, 2).variance).toBeGreaterThan(50);
  });

  it("applyRgba, out === data, filters in place and keeps alpha", () => {
    const rnd = mulberry32(11);
    const rgba = Uint8ClampedArray.from({ length: W * H * 4 }, () => Math.floor(rnd() * 256));
    const expected = new RoiPrefilter().applyRgba(rgba, W, H, blockMap(W, H, B, regionA));
    const alpha = rgba.filter((_, i) => i % 4 === 3);
    expect(new RoiPrefilter().applyRgba(rgba, W, H, blockMap(W, H, B, regionA), rgba)).toBe(rgba);
    expect(rgba).toEqual(expected);
    expect(rgba.filter((_, i) => i % 4 === 3)).toEqual(alpha);
  });
});
