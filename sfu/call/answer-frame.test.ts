import { describe, expect, it } from "vitest";
import { outlineBox, shrinkFrame } from "./answer-frame.ts";

describe("answer frame pictures", () => {
  it("shrinks by averaging whole pixels to an even size within the longest side", () => {
    const f = { width: 1280, height: 720, rgb: new Uint8Array(1280 * 720 * 3), timestampMs: 7 };
    for (let i = 0; i < 1280 * 720; i++) f.rgb.set((i % 1280) < 640 ? [200, 0, 0] : [0, 0, 200], i * 3);
    const s = shrinkFrame(f, 480);
    expect([s.width, s.height, s.timestampMs]).toEqual([480, 270, 7]);
    expect([...s.rgb.subarray(0, 3)]).toEqual([200, 0, 0]);
    expect([...s.rgb.subarray((270 * 480 - 1) * 3)]).toEqual([0, 0, 200]);
    expect(shrinkFrame(s, 480)).toBe(s);
  });

  it("outlines a normalised box on a copy", () => {
    const f = { width: 100, height: 50, rgb: new Uint8Array(100 * 50 * 3), timestampMs: 0 };
    const o = outlineBox(f, { x: 0.2, y: 0.2, width: 0.5, height: 0.5 }, 2);
    expect(f.rgb.every((v) => v === 0)).toBe(true);
    const at = (x: number, y: number) => [...o.rgb.subarray((y * 100 + x) * 3, (y * 100 + x) * 3 + 3)];
    expect(at(18, 20)).toEqual([40, 255, 80]);
    expect(at(45, 25)).toEqual([0, 0, 0]);
  });
});
