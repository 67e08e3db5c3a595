import { describe, expect, it } from "vitest";
import { FrameDelay } from "./frame-delay.ts";

describe("FrameDelay", () => {
  it("good: delay above the fastest frame", () => {
    const d = new FrameDelay();
    d.good(0, 1000); // offset 1000
    d.good(100, 1130); // offset 1030
    d.good(200, 1210); // offset 1010
    expect(d.stats()).toMatchObject({ samples: 3, p50: 10, p95: 30, framesWaitedForNext: 0 });
  });

  it("dropped: a lost frame counts until the next good frame is available", () => {
    const d = new FrameDelay();
    d.good(0, 1000);
    d.dropped(100);
    d.dropped(200);
    d.good(300, 1300);
    // Frames 100 and 200 waited until 1300: 200 and 100 ms above the 1000 ms base.
    const s = d.stats();
    expect(s).toMatchObject({ samples: 4, p95: 200, framesWaitedForNext: 2 });
  });

  it("dropped: frames captured after the good one keep waiting for a later frame", () => {
    const d = new FrameDelay();
    d.good(0, 1000);
    d.dropped(300);
    d.good(200, 1250); // decoded late, captured before the dropped frame: does not cover it
    d.good(400, 1400);
    expect(d.stats()).toMatchObject({ samples: 4, framesWaitedForNext: 1, p95: 100 });
  });
});
