import { describe, expect, it } from "vitest";
import { LossResilience } from "./loss-resilience.ts";

describe("LossResilience", () => {
  it("onReceiverReport: without retransmissions, 10% loss turns every frame into a keyframe at the first report", () => {
    const r = new LossResilience(false);
    expect(r.onReceiverReport(0.1, 0)).toBe(true);
    expect(r.intraOnly).toBe(true);
    expect(r.keyframeRequestNeedsRestart(), "the next frame is a keyframe anyway").toBe(false);
  });

  it("onReceiverReport: back to the configured keyframe interval after the loss stayed low for holdMs", () => {
    const r = new LossResilience(false, { holdMs: 5000, alpha: 0.5 });
    r.onReceiverReport(0.05, 0);
    const changes: number[] = [];
    for (let t = 1000; t <= 20_000; t += 1000) if (r.onReceiverReport(0, t)) changes.push(t);
    // Smoothed: 0.025, 0.0125, 0.006, 0.003, then 0.0016 < 0.002 at 5000 ms; 5 s later it switches.
    expect(changes).toEqual([10_000]);
    expect(r.intraOnly).toBe(false);
    expect(r.keyframeRequestNeedsRestart()).toBe(true);
  });

  it("onReceiverReport: a loss between the thresholds holds the current mode (hysteresis)", () => {
    const r = new LossResilience(false, { alpha: 1 });
    expect(r.onReceiverReport(0.005, 0)).toBe(false);
    expect(r.intraOnly).toBe(false);
    r.onReceiverReport(0.02, 1000);
    for (let t = 2000; t < 60_000; t += 1000) expect(r.onReceiverReport(0.005, t)).toBe(false);
    expect(r.intraOnly).toBe(true);
  });

  it("onReceiverReport: with FEC negotiated the keyframe interval stays, and the loss is still tracked for the parity", () => {
    const r = new LossResilience(false, {}, true);
    expect(r.onReceiverReport(0.1, 0)).toBe(false);
    expect(r.onReceiverReport(0.2, 1000)).toBe(false);
    expect(r.intraOnly).toBe(false);
    expect(r.lossRate).toBeCloseTo(0.13);
    expect(r.keyframeRequestNeedsRestart()).toBe(true);
  });

  it("onReceiverReport: with retransmissions negotiated (classic receiver) nothing changes", () => {
    const r = new LossResilience(true);
    expect(r.onReceiverReport(0.3, 0)).toBe(false);
    expect(r.intraOnly).toBe(false);
    expect(r.lossRate).toBeCloseTo(0.3);
  });

  it("bad values are RangeErrors that name the field", () => {
    expect(() => new LossResilience(false, { enterLoss: 0 })).toThrow(/enterLoss/);
    expect(() => new LossResilience(false, { enterLoss: 0.01, leaveLoss: 0.02 })).toThrow(/leaveLoss/);
    expect(() => new LossResilience(false).onReceiverReport(2, 0)).toThrow(/fractionLost/);
  });
});
