import { describe, expect, it } from "vitest";
import type { NormalizedBox } from "../types.ts";
import { groundingPrompt, parseBoxes } from "./boxes.ts";

function expectBoxes(actual: NormalizedBox[], expected: Array<[number, number, number, number]>): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach(([x, y, w, h], i) => {
    expect(actual[i]!.x).toBeCloseTo(x, 6);
    expect(actual[i]!.y).toBeCloseTo(y, 6);
    expect(actual[i]!.width).toBeCloseTo(w, 6);
    expect(actual[i]!.height).toBeCloseTo(h, 6);
  });
}

describe("parseBoxes", () => {
  it("with the requested JSON form, returns x, y, width and height", () => {
    expectBoxes(parseBoxes('{"boxes":[[0.1,0.2,0.5,0.6],[0,0,1,1]]}'), [[0.1, 0.2, 0.4, 0.4], [0, 0, 1, 1]]);
  });

  it("with JSON in a code fence after prose, finds it", () => {
    const reply = 'Here is the region:\n```json\n{"boxes": [[0.25, 0.25, 0.75, 0.5]]}\n```\nHope this helps.';
    expectBoxes(parseBoxes(reply), [[0.25, 0.25, 0.5, 0.25]]);
  });

  it("with JSON inside a sentence, finds it past other brackets", () => {
    expectBoxes(parseBoxes('The sign (top left) is at {"boxes":[[0.0,0.0,0.3,0.2]]}.'), [[0, 0, 0.3, 0.2]]);
  });

  it("with values above 1, reads the 0..1000 scale", () => {
    expectBoxes(parseBoxes('{"boxes":[[100,200,500,600],[0,0,1,1]]}'), [[0.1, 0.2, 0.4, 0.4], [0, 0, 0.001, 0.001]]);
  });

  it("with Qwen2.5-VL's bbox_2d objects, keeps the labels", () => {
    const boxes = parseBoxes('```json\n[{"bbox_2d": [100, 100, 300, 400], "label": "price tag"}]\n```');
    expectBoxes(boxes, [[0.1, 0.1, 0.2, 0.3]]);
    expect(boxes[0]!.label).toBe("price tag");
  });

  it("with Qwen-VL box tags, reads them on the 0..1000 scale", () => {
    expectBoxes(parseBoxes("<ref>the clock</ref><box>(500,0),(1000,250)</box>"), [[0.5, 0, 0.5, 0.25]]);
  });

  it("with corners reversed or outside the picture, orders and clamps them", () => {
    expectBoxes(parseBoxes('{"boxes":[[0.9,0.8,0.5,-0.2]]}'), [[0.5, 0, 0.4, 0.8]]);
  });

  it("with boxes of no area, drops them", () => {
    expectBoxes(parseBoxes('{"boxes":[[0.5,0.5,0.5,0.9],[0.1,0.1,0.2,0.2],[2000,2000,3000,3000]]}'), [[0.1 / 1000, 0.1 / 1000, 0.1 / 1000, 0.1 / 1000]]);
  });

  it("with an empty list, prose only, or broken JSON, returns []", () => {
    expect(parseBoxes('{"boxes":[]}')).toEqual([]);
    expect(parseBoxes("There is nothing relevant in the picture.")).toEqual([]);
    expect(parseBoxes('{"boxes":[[0.1,0.2,')).toEqual([]);
  });
});

describe("groundingPrompt", () => {
  it("with a question, includes it and asks for JSON with 0..1 corners", () => {
    const p = groundingPrompt("What does the sign say?");
    expect(p).toContain("What does the sign say?");
    expect(p).toContain('{"boxes":[[x0,y0,x1,y1],...]}');
    expect(p).toMatch(/from 0 to 1/);
  });
});
