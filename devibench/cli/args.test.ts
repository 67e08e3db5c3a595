import { describe, expect, it } from "vitest";
import type { Sample } from "../types.ts";
import { parseFamilies, parseRunArgs, UsageError } from "./args.ts";
import { filterSamples } from "./run-command.ts";

describe("parseRunArgs", () => {
  it("with no flags, gives the documented defaults", () => {
    const a = parseRunArgs([]);
    if (a === "help") throw new Error("unexpected help");
    expect(a.dataset).toBe("synthetic");
    expect(a.engine).toBe("embedded");
    expect(a.rungs.map((r) => r.targetKbps)).toEqual([800, 600, 400, 200, 100, 50]);
    expect(a.methods).toEqual(["baseline", "context"]);
    expect([a.fps, a.maxFrames, a.maxSide, a.workers, a.clips]).toEqual([0.5, 3, 1280, 2, 20]);
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
    [["--families", "colour,shape"], /--families: "shape" is not a question family; use label, colour, position/],
    [["--families", ","], /--families is empty/],
    [["--dataset", "devibench-v2", "--families", "colour"], /--families needs the synthetic set/],
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

  it("--families: all by default; a comma list of known families, either spelling of colour", () => {
    const d = parseRunArgs([]);
    if (d === "help") throw new Error("unexpected help");
    expect(d.families).toBeNull();
    expect(parseFamilies(" colour , color-of,bare,square-color,colour ")).toEqual(["colour", "colour-of", "bare", "square-colour"]);
  });
});

describe("filterSamples", () => {
  const sample = (id: string, taskType: string, family?: string): Sample => ({
    id, dataset: "synthetic", videoPath: "v.mkv", startSec: 0, durationSec: 5, question: "?", answer: "x", taskType, ...(family ? { family } : {}),
  });
  const all = [
    sample("t", "Text-Rich Understanding", "colour"), sample("b", "Text-Rich Understanding", "bare"),
    sample("a", "Attribute Perception", "colour-of"), sample("s", "Attribute Perception", "square-colour"), sample("n", "Counting", "count"),
  ];
  const ids = (r: { samples: Sample[] }) => r.samples.map((s) => s.id);

  it("asks the embedded engine text questions and the colour of text objects by default, other engines everything", () => {
    expect(ids(filterSamples(all, { tasks: null, families: null, engine: "embedded" }))).toEqual(["t", "b", "a"]);
    expect(ids(filterSamples(all, { tasks: null, families: null, engine: "openai" }))).toEqual(["t", "b", "a", "s", "n"]);
  });

  it("takes short task names and families; --families alone asks its families whatever the engine", () => {
    expect(ids(filterSamples(all, { tasks: ["text", "attribute"], families: null, engine: "embedded" }))).toEqual(["t", "b", "a", "s"]);
    expect(ids(filterSamples(all, { tasks: null, families: ["colour", "colour-of"], engine: "embedded" }))).toEqual(["t", "a"]);
    const r = filterSamples(all, { tasks: "text", families: ["colour-of"], engine: "embedded" });
    expect(r.samples).toEqual([]);
    expect(r.tasks).toBe("Text-Rich Understanding; families colour-of");
    // Rows without a family (real DeViBench) never match a family filter.
    expect(ids(filterSamples([sample("d", "Counting")], { tasks: "all", families: ["count"], engine: "openai" }))).toEqual([]);
  });
});
