import { describe, expect, it } from "vitest";
import { FrameDelay } from "../../sfu/media/frame-delay.ts";
import { frameLatencies, summarize, timedFrames } from "./latency.ts";

describe("timedFrames", () => {
  it("keeps, in capture order, the frames frameLatencies times: up to the last available one", () => {
    const frames = [
      { captureMs: 200, availableMs: null },
      { captureMs: 0, availableMs: 60 },
      { captureMs: 300, availableMs: 390 },
      { captureMs: 100, availableMs: null },
      { captureMs: 400, availableMs: null },
    ];
    const timed = timedFrames(frames);
    expect(timed.map((f) => f.captureMs)).toEqual([0, 100, 200, 300]);
    expect(timed.length).toBe(frameLatencies(frames).latenciesMs.length);
    expect(timedFrames([{ captureMs: 0, availableMs: null }])).toEqual([]);
  });
});

describe("frameLatencies", () => {
  it("times a good frame from capture to availability", () => {
    const r = frameLatencies([{ captureMs: 0, availableMs: 80 }, { captureMs: 100, availableMs: 170 }]);
    expect(r.latenciesMs).toEqual([80, 70]);
    expect(r.waitedForNext).toBe(0);
  });

  it("times a dropped frame until the next good frame is available", () => {
    // Frames every 100 ms; frames 1 and 2 never arrive; frame 3 is available at 390 ms.
    const r = frameLatencies([
      { captureMs: 0, availableMs: 60 },
      { captureMs: 100, availableMs: null },
      { captureMs: 200, availableMs: null },
      { captureMs: 300, availableMs: 390 },
    ]);
    expect(r.latenciesMs).toEqual([60, 290, 190, 90]);
    expect(r.waitedForNext).toBe(2);
    expect(r.untimed).toBe(0);
  });

  it("a frame held behind a retransmission delays the frames after it (classic)", () => {
    // Frame 1 waits for a retransmission until 260 ms; frame 2, complete at 240 ms, is released with it.
    const r = frameLatencies([
      { captureMs: 0, availableMs: 60 },
      { captureMs: 100, availableMs: 260 },
      { captureMs: 200, availableMs: 260 },
    ]);
    expect(r.latenciesMs).toEqual([60, 160, 60]);
  });

  it("leaves frames with no good frame after them untimed", () => {
    const r = frameLatencies([{ captureMs: 0, availableMs: 50 }, { captureMs: 100, availableMs: null }]);
    expect(r.latenciesMs).toEqual([50]);
    expect(r.untimed).toBe(1);
  });

  it("agrees with FrameDelay up to FrameDelay's offset (the fastest frame)", () => {
    const frames = [
      { captureMs: 0, availableMs: 70 }, { captureMs: 66, availableMs: null }, { captureMs: 133, availableMs: 190 },
      { captureMs: 200, availableMs: 420 }, { captureMs: 266, availableMs: 420 }, { captureMs: 333, availableMs: null },
      { captureMs: 400, availableMs: null }, { captureMs: 466, availableMs: 530 },
    ];
    const fd = new FrameDelay(1000);
    for (const f of frames) {
      if (f.availableMs === null) fd.dropped(f.captureMs);
      else fd.good(f.captureMs, f.availableMs);
    }
    const ours = frameLatencies(frames).latenciesMs;
    const base = Math.min(...frames.filter((f) => f.availableMs !== null).map((f) => f.availableMs! - f.captureMs));
    const s = summarize(ours.map((v) => v - base));
    const st = fd.stats();
    expect(s.p50Ms).toBe(Math.round(st.p50!));
    expect(s.p95Ms).toBe(Math.round(st.p95!));
    expect(s.frames).toBe(st.samples);
  });
});

describe("summarize", () => {
  it("gives nearest-rank p50 and p95, null without data", () => {
    expect(summarize([10, 20, 30, 40])).toEqual({ p50Ms: 20, p95Ms: 40, frames: 4 });
    expect(summarize([])).toEqual({ p50Ms: null, p95Ms: null, frames: 0 });
  });
});
