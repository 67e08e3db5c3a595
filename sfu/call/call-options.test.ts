import { describe, expect, it } from "vitest";
import { CallServer, type CallServerOptions } from "./call-server.ts";

const base: CallServerOptions = {
  secret: "unit-test-secret-0123456789abcdef0123", ffmpeg: "ffmpeg", regionFinder: null,
  model: { ask: async () => ({ text: "", cannotAnswer: true }) } as unknown as CallServerOptions["model"],
};

describe("CallServer options", () => {
  it("constructor: a bad receive policy, frame-rate option or frame wait is a RangeError naming it, before anything starts", () => {
    expect(() => new CallServer({ ...base, receivePolicy: "nack" as never })).toThrow(/receive policy must be "resilient", "classic" or "layered", got "nack"/);
    expect(() => new CallServer({ ...base, frameRate: { samplingFps: 0 } })).toThrow(/samplingFps/);
    expect(() => new CallServer({ ...base, frameWaitMs: -5 })).toThrow(/frameWaitMs/);
    expect(() => new CallServer({ ...base, browserReceivePolicy: "fec" as never })).toThrow(/got "fec"/);
    expect(() => new CallServer({ ...base, browserFrameWaitMs: Number.NaN })).toThrow(/browserFrameWaitMs/);
  });
});
