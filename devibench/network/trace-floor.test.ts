import { describe, expect, it } from "vitest";
import { parseTrace } from "../../sfu/link/trace.ts";
import { frameLatencyFloor, frameLatencyFloorAt } from "./trace-floor.ts";

describe("frameLatencyFloor (trace-floor.ts)", () => {
  // One opportunity every 10 ms over a 100 ms cycle.
  const even = parseTrace(Array.from({ length: 10 }, (_, i) => String((i + 1) * 10)).join("\n"));

  it("waits for the next n opportunities strictly after encoding, then the one-way delay", () => {
    // Capture at t, encoded at t + 0: first opportunity is the next multiple of 10 strictly after t.
    const one = frameLatencyFloor(even, 1, { encodeMs: 0, oneWayMs: 0 });
    // Waits over the 100 captures are 10, 9, ..., 1 repeated: p50 5 (nearest rank), p95 10.
    expect(one.p50Ms).toBe(5);
    expect(one.p95Ms).toBe(10);
    const three = frameLatencyFloor(even, 3, { encodeMs: 0, oneWayMs: 50 });
    expect(three.p95Ms).toBe(30 + 50);
    expect(three.overShare).toBe(0);
  });

  it("counts captures stuck behind an outage", () => {
    // Opportunities every ms for 50 ms, then none until 100: half the cycle is an outage.
    const gappy = parseTrace([...Array.from({ length: 50 }, (_, i) => String(i + 1)), "100"].join("\n"));
    const f = frameLatencyFloor(gappy, 1, { encodeMs: 0, oneWayMs: 0, overMs: 20 });
    // Captures at 51..79 wait more than 20 ms for the opportunity at 100 (plus capture 50 waits 50).
    expect(f.overShare).toBeCloseTo(30 / 100, 5);
    expect(f.p95Ms).toBeGreaterThan(40);
  });

  it("rejects a bad frame size or delay", () => {
    expect(() => frameLatencyFloor(even, 0, { encodeMs: 0, oneWayMs: 0 })).toThrow(/packets/);
    expect(() => frameLatencyFloor(even, 1, { encodeMs: -1, oneWayMs: 0 })).toThrow(/encodeMs/);
  });

  it("frameLatencyFloorAt, frames at given times with their own sizes, waits for each one's opportunities (times taken over the cycle)", () => {
    // t = 5: a 1-packet frame leaves at 10; t = 105 is t = 5 of the next cycle; a 3-packet one at 30.
    const p95 = frameLatencyFloorAt(even, [{ atMs: 5, packets: 1 }, { atMs: 105, packets: 1 }, { atMs: 5, packets: 3 }], { encodeMs: 0, oneWayMs: 50 });
    expect(p95).toBe(25 + 50);
    expect(frameLatencyFloorAt(even, [], { encodeMs: 0, oneWayMs: 0 })).toBeNull();
  });
});
