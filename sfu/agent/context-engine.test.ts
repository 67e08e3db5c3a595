import { describe, expect, it } from "vitest";
import { weightAt } from "../../encoder/importance/map.ts";
import type { VideoFrame } from "../mllm/types.ts";
import { ContextEngine, type RegionFinder } from "./context-engine.ts";

const frame: VideoFrame = { width: 1280, height: 720, rgb: new Uint8Array(1280 * 720 * 3), timestampMs: 0 };

function finder(boxes: Array<[number, number, number, number]>, matched: boolean): RegionFinder {
  return { find: async () => ({ boxes: boxes.map(([x, y, width, height]) => ({ x, y, width, height })), matched }) };
}

describe("ContextEngine.mapFor", () => {
  it("with a matched box, weights it 1 and far blocks 0, with increasing versions and a validity window", async () => {
    const e = new ContextEngine(finder([[0.6, 0.1, 0.2, 0.1], [0.0, 0.8, 0.1, 0.1]], true), { maxMatchedBoxes: 1, validForMs: 5000 });
    const a = (await e.mapFor("What gate?", frame, 1000))!;
    expect(weightAt(a.map, 0.7 * 1280, 0.15 * 720)).toBe(1);
    expect(weightAt(a.map, 0.05 * 1280, 0.85 * 720)).toBe(0);
    expect(a.validUntilMs).toBe(6000);
    const b = (await e.mapFor("What seat?", frame, 2000))!;
    expect(b.version).toBe(a.version + 1);
  });

  it("with nothing matched, keeps every text box as a candidate", async () => {
    const e = new ContextEngine(finder([[0.6, 0.1, 0.2, 0.1], [0.0, 0.8, 0.1, 0.1]], false));
    const m = (await e.mapFor("What does it say?", frame, 0))!;
    expect(m.regions).toHaveLength(2);
    expect(weightAt(m.map, 0.05 * 1280, 0.85 * 720)).toBe(1);
  });

  it("with no boxes, gives no map", async () => {
    expect(await new ContextEngine(finder([], false)).mapFor("What?", frame, 0)).toBeNull();
  });
});
