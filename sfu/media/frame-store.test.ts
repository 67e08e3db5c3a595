import { describe, expect, it } from "vitest";
import type { VideoFrame } from "../mllm/types.ts";
import { FrameStore } from "./frame-store.ts";

function frame(timestampMs: number): VideoFrame {
  return { width: 2, height: 2, rgb: new Uint8Array(12).fill(timestampMs % 256), timestampMs };
}

describe("FrameStore", () => {
  it("sampleAt: undefined before any frame is stored", () => {
    expect(new FrameStore().sampleAt(0, 1)).toBeUndefined();
  });

  it("sampleAt: returns the newest frame when it is newer than the last sample", () => {
    const store = new FrameStore();
    store.put(frame(0), 10);
    store.put(frame(33), 43);
    const s = store.sampleAt(50, 2)!;
    expect(s).toMatchObject({ captureMs: 33, arrivalMs: 43, substituted: false, ageMs: 7, stale: false });
    expect(store.counters).toMatchObject({ framesStored: 2, framesSampled: 1, framesSubstituted: 0, framesUnsampled: 1 });
  });

  it("sampleAt: without a newer frame the previous good frame stands in, marked substituted", () => {
    const store = new FrameStore();
    store.put(frame(0), 10);
    expect(store.sampleAt(20, 1)!.substituted).toBe(false);
    const again = store.sampleAt(1020, 1)!;
    expect(again).toMatchObject({ captureMs: 0, substituted: true, ageMs: 1010, stale: true });
    store.put(frame(1500), 1510);
    expect(store.sampleAt(2020, 1)).toMatchObject({ captureMs: 1500, substituted: false });
    expect(store.counters).toMatchObject({ framesSampled: 3, framesSubstituted: 1 });
  });

  it("put: refuses a frame not newer than the latest and keeps the latest", () => {
    const store = new FrameStore();
    expect(store.put(frame(100), 0)).toBe(true);
    expect(store.put(frame(100), 1)).toBe(false);
    expect(store.put(frame(50), 2)).toBe(false);
    expect(store.latest()!.captureMs).toBe(100);
    expect(store.counters.framesOutOfOrder).toBe(2);
  });

  it("sampleAt: stale means older than one sampling interval", () => {
    const store = new FrameStore();
    store.put(frame(0), 0);
    expect(store.sampleAt(400, 2)!.stale).toBe(false);
    expect(store.sampleAt(600, 2)!.stale).toBe(true);
    expect(() => store.sampleAt(600, 0)).toThrow(RangeError);
  });
});
