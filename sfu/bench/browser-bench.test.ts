import { describe, expect, it } from "vitest";
import { parseBrowserBenchArgs, worstWindowRatio } from "./browser-bench.ts";

describe("bench:browser arguments", () => {
  it("parseBrowserBenchArgs, no flags, gives issue 14's two loss points, both paths, 20 s windows", () => {
    expect(parseBrowserBenchArgs([])).toEqual({ loss: [0.05, 0.1], oneWayMs: 50, seconds: 20, paths: ["classic", "layered", "resilient"], questions: 2, seed: 1, json: false });
    expect(parseBrowserBenchArgs(["--help"])).toBe("help");
  });

  it("parseBrowserBenchArgs, a bad value, throws naming the flag and the value", () => {
    expect(() => parseBrowserBenchArgs(["--loss", "0.05,0.9"])).toThrow(/--loss must be a number from 0 to 0.5, got "0.9"/);
    expect(() => parseBrowserBenchArgs(["--paths", "classic,fec"])).toThrow(/--paths takes classic, layered and\/or resilient, got "fec"/);
    expect(() => parseBrowserBenchArgs(["--seconds", "5"])).toThrow(/--seconds/);
    expect(() => parseBrowserBenchArgs(["--questions", "1.5"])).toThrow(/--questions must be a whole number/);
    expect(() => parseBrowserBenchArgs(["--bogus"])).toThrow(/bogus/);
  });
});

describe("worstWindowRatio", () => {
  it("worstWindowRatio, a 10 s stretch at 1.3 x the target inside a compliant call, finds it", () => {
    const samples = Array.from({ length: 30 }, (_, i) => ({ uplinkBps: i >= 12 && i < 22 ? 780_000 : 540_000, targetBps: 600_000 }));
    expect(worstWindowRatio(samples)).toBeCloseTo(1.3, 5);
  });

  it("worstWindowRatio, a one-second burst, is averaged over its window; under 10 samples, null", () => {
    const samples = Array.from({ length: 12 }, (_, i) => ({ uplinkBps: i === 5 ? 1_200_000 : 600_000, targetBps: 600_000 }));
    expect(worstWindowRatio(samples)).toBeCloseTo(1.1, 5);
    expect(worstWindowRatio(samples.slice(0, 9))).toBeNull();
  });
});
