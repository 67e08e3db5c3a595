import { describe, expect, it } from "vitest";
import type { Sample } from "../types.ts";
import { regionGroups } from "./run-clip.ts";
import { shiftRoiSchedule } from "./sender.ts";

const rect = (x: number) => ({ x, y: 0, width: 16, height: 16, qpOffset: -6 });

describe("shiftRoiSchedule", () => {
  it("a static map: a PLI segment keeps the same rectangles from its first frame", () => {
    expect(shiftRoiSchedule([{ atSec: 0, rects: [rect(0)] }], 2.4)).toEqual([{ atSec: 0, rects: [rect(0)] }]);
  });

  it("a changing map: the entry in force at the segment's start moves to 0, later ones move earlier", () => {
    const s = [{ atSec: 0, rects: [rect(0)] }, { atSec: 1, rects: [rect(16)] }, { atSec: 3, rects: [rect(32)] }];
    expect(shiftRoiSchedule(s, 2)).toEqual([{ atSec: 0, rects: [rect(16)] }, { atSec: 1, rects: [rect(32)] }]);
  });

  it("a map that starts after the segment's start: no rectangles until it does", () => {
    expect(shiftRoiSchedule([{ atSec: 3, rects: [rect(0)] }], 1)).toEqual([{ atSec: 0, rects: [] }, { atSec: 2, rects: [rect(0)] }]);
    expect(shiftRoiSchedule([], 1)).toEqual([]);
  });
});

describe("regionGroups", () => {
  const sample = (id: string, x: number) => ({ id, regions: [{ x, y: 0, width: 10, height: 10 }] }) as unknown as Sample;

  it("context: one group per distinct ground-truth region; baseline: one group without regions", () => {
    const ss = [sample("a", 0), sample("b", 0), sample("c", 50)];
    expect(regionGroups(ss, "context").map((g) => g.samples.map((s) => s.id))).toEqual([["a", "b"], ["c"]]);
    expect(regionGroups(ss, "baseline")).toEqual([{ regions: null, samples: ss }]);
  });

  it("context without a ground-truth region is an error naming the sample", () => {
    expect(() => regionGroups([{ id: "x", regions: [] } as unknown as Sample], "context")).toThrow(/sample x/);
  });
});
