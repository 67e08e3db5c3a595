import { describe, expect, it } from "vitest";
import { frameKey, ReadCache } from "./read-cache.ts";

describe("ReadCache", () => {
  it("keys frames by every pixel: one changed byte, or another size, is another frame", () => {
    const rgb = new Uint8Array(64 * 36 * 3).map((_, i) => (i * 31) & 255);
    const a = frameKey({ width: 64, height: 36, rgb, timestampMs: 0 });
    expect(frameKey({ width: 64, height: 36, rgb: rgb.slice(), timestampMs: 99 })).toBe(a);
    const b = rgb.slice();
    b[4000] = (b[4000]! + 1) & 255;
    expect(frameKey({ width: 64, height: 36, rgb: b, timestampMs: 0 })).not.toBe(a);
    expect(frameKey({ width: 36, height: 64, rgb, timestampMs: 0 })).not.toBe(a);
    // An odd offset into a buffer (no 32-bit view) hashes the same bytes the same way.
    const shifted = new Uint8Array(rgb.length + 1);
    shifted.set(rgb, 1);
    expect(frameKey({ width: 64, height: 36, rgb: shifted.subarray(1), timestampMs: 0 })).toBe(a);
  });

  it("keeps the most recently used frames only", () => {
    const c = new ReadCache(2);
    c.entry("a").boxes = [];
    c.entry("b");
    c.entry("a");
    c.entry("c");
    expect(c.size).toBe(2);
    expect(c.entry("a").boxes).toEqual([]);
    expect(c.entry("b").boxes).toBeNull();
  });
});
