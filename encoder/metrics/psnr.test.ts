import { describe, expect, it } from "vitest";
import { boxMask, psnrFromMse, regionError } from "./psnr.ts";

describe("regionError", () => {
  it("splits squared error between inside and outside a box", () => {
    const w = 8;
    const h = 4;
    const ref = new Uint8Array(w * h).fill(100);
    const dis = new Uint8Array(w * h).fill(100);
    dis[0] = 110; // inside the box
    dis[w * h - 1] = 97; // outside
    const e = regionError(ref, dis, boxMask(w, h, [{ x: 0, y: 0, width: 2, height: 2 }]));
    expect(e).toEqual({ inSse: 100, inCount: 4, outSse: 9, outCount: 28 });
  });

  it("clips boxes that leave the picture", () => {
    const m = boxMask(4, 4, [{ x: 3, y: 3, width: 10, height: 10 }]);
    expect(m.reduce((s, v) => s + v, 0)).toBe(1);
  });
});

describe("psnrFromMse", () => {
  it("gives 100 dB for identical pictures and 48.13 dB for an MSE of 1", () => {
    expect(psnrFromMse(0)).toBe(100);
    expect(psnrFromMse(1)).toBeCloseTo(48.13, 2);
  });
});
