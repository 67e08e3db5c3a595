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
  ])("with %j, raises a usage error naming the flag", (argv, message) => {
    expect(() => parseRunArgs(argv)).toThrow(UsageError);
    expect(() => parseRunArgs(argv)).toThrow(message);
  });

  it("with --help, asks for the help text", () => {
    expect(parseRunArgs(["--help"])).toBe("help");
  });
});
