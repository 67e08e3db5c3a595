import { describe, expect, it } from "vitest";
import { splitAboutEqually } from "./split.ts";

describe("splitAboutEqually", () => {
  it("splitAboutEqually, 1300 bytes at 1198 a piece, gives two pieces of 650", () => {
    expect(splitAboutEqually(1300, 1198)).toEqual([650, 650]);
  });

  it("splitAboutEqually, any total and room, gives the fewest pieces, none over room, differing by at most one, summing to the total", () => {
    for (const [total, room] of [[1, 1], [7, 3], [1199, 1198], [2396, 1198], [2397, 1198], [40_001, 1198], [5, 100]] as const) {
      const pieces = splitAboutEqually(total, room);
      expect(pieces.length).toBe(Math.ceil(total / room));
      expect(pieces.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...pieces)).toBeLessThanOrEqual(room);
      expect(Math.max(...pieces) - Math.min(...pieces)).toBeLessThanOrEqual(1);
    }
  });

  it("splitAboutEqually, nothing to cut, gives no pieces; a bad total or room throws a RangeError naming it", () => {
    expect(splitAboutEqually(0, 10)).toEqual([]);
    expect(() => splitAboutEqually(-1, 10)).toThrow(/total/);
    expect(() => splitAboutEqually(10, 0)).toThrow(/room/);
    expect(() => splitAboutEqually(1.5, 10)).toThrow(RangeError);
  });
});
