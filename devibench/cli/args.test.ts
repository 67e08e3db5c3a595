import { describe, expect, it } from "vitest";
import { parseRunArgs, UsageError } from "./args.ts";

describe("parseRunArgs", () => {
  it("with no flags, gives the documented defaults", () => {
    const a = parseRunArgs([]);
    if (a === "help") throw new Error("unexpected help");
    expect(a.dataset).toBe("synthetic");
    expect(a.engine).toBe("embedded");
    expect(a.rungs.map((r) => r.targetKbps)).toEqual([800, 600, 400, 200, 100, 50]);
    expect(a.methods).toEqual(["baseline", "context"]);
    expect([a.fps, a.maxFrames, a.maxSide, a.workers, a.clips]).toEqual([0.5, 3, 1280, 2, 10]);
  });

  it.each([
    [["--rungs", "800,300"], /--rungs: no rung at 300 kbps/],
    [["--fps", "0"], /--fps must be a number above 0/],
    [["--workers", "two"], /--workers must be a whole number/],
    [["--engine", "gpt"], /--engine must be one of embedded, openai/],
    [["--engine", "openai"], /needs --base-url and --model/],
    [["--dataset", "devibench-v2", "--region-source", "ground-truth"], /needs the synthetic set/],
    [["--methods", "baseline,fancy"], /"fancy" is not a method/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--network", "fast@loss=0.05,rtt=100"], /POLICY classic or resilient/],
    [["--network", "classic@loss=1.5,rtt=100"], /condition.loss/],
    [["--network", "classic@loss=0.05,rtt=-1"], /condition.rtt/],
    [["--network", "classic@loss=0.05,rtt=100;classic@loss=0.05,rtt=100"], /given twice/],
  ])("with %j, raises a usage error naming the flag", (argv, message) => {
    expect(() => parseRunArgs(argv)).toThrow(UsageError);
    expect(() => parseRunArgs(argv)).toThrow(message);
  });

  it("--network: none by default; none and POLICY@SPEC items separated by ;", () => {
    const d = parseRunArgs([]);
    if (d === "help") throw new Error("unexpected help");
    expect(d.networks).toEqual([{ name: "none", kind: "none" }]);
    const a = parseRunArgs(["--network", "none;classic@loss=0.05,rtt=100;resilient@trace:verizon-lte,rtt=100"]);
    if (a === "help") throw new Error("unexpected help");
    expect(a.networks).toEqual([
      { name: "none", kind: "none" },
      { name: "loss5-rtt100/classic", kind: "link", spec: "loss=0.05,rtt=100", policy: "classic" },
      { name: "verizon-lte-rtt100/resilient", kind: "link", spec: "trace:verizon-lte,rtt=100", policy: "resilient" },
    ]);
  });

  it("with --help, asks for the help text", () => {
    expect(parseRunArgs(["--help"])).toBe("help");
  });
});
