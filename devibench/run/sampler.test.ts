import { describe, expect, it } from "vitest";
import { sampleTimes } from "./sampler.ts";

describe("sampleTimes", () => {
  it("at 0.5 fps over 5 s, takes the middle of each 2 s interval", () => {
    expect(sampleTimes(5, { fps: 0.5, maxFrames: 10 })).toEqual([1, 3]);
  });
  it("at 2 fps with at most 3 frames, spreads 3 of the 10 evenly", () => {
    expect(sampleTimes(5, { fps: 2, maxFrames: 3 })).toEqual([0.75, 2.75, 4.25]);
  });
  it("for a clip shorter than one interval, takes its middle", () => {
    expect(sampleTimes(0.4, { fps: 1, maxFrames: 3 })).toEqual([0.2]);
  });
});
