import { describe, expect, it } from "vitest";
import { parseNetworks } from "../cli/args.ts";
import { resultKey } from "./results.ts";
import type { RunConfig } from "../types.ts";
import { conditionsFor } from "./runner.ts";

const config = (over: Partial<RunConfig> = {}): RunConfig => ({
  dataset: "synthetic", datasetPath: null, videosDir: null, engine: "stub",
  methods: ["baseline", "context"], regionSource: "ground-truth",
  rungs: [{ targetKbps: 200, width: 1024, height: 576 }, { targetKbps: 50, width: 640, height: 360 }],
  networks: parseNetworks("none;classic@loss=0.05,rtt=100;resilient@loss=0.05,rtt=100"),
  codec: "h264", sampling: { fps: 0.5, maxFrames: 3, maxSide: 1280 }, scoring: "normalized-match",
  workers: 1, seed: 1, limit: null, outDir: "/nonexistent", ...over,
});

describe("conditionsFor", () => {
  it("gives every method at every rung for every network, links included", () => {
    const cs = conditionsFor(config());
    expect(cs).toHaveLength(3 * 2 * 2);
    for (const name of ["none", "loss5-rtt100/classic", "loss5-rtt100/resilient"]) {
      for (const kbps of [200, 50]) {
        const here = cs.filter((c) => c.network.name === name && c.targetKbps === kbps);
        expect(here.map((c) => c.method)).toEqual(["baseline", "context"]);
        expect(here.find((c) => c.method === "context")!.regionSource).toBe("ground-truth");
        expect(here.find((c) => c.method === "baseline")!.regionSource).toBeUndefined();
      }
    }
    const link = cs.filter((c) => c.network.kind === "link" && c.method === "context");
    expect(link).toHaveLength(4);
    expect(link[0]!.network).toEqual({ name: "loss5-rtt100/classic", kind: "link", spec: "loss=0.05,rtt=100", policy: "classic" });
  });

  it("keys context and baseline over the same link apart (results do not overwrite each other)", () => {
    const cs = conditionsFor(config({ networks: parseNetworks("classic@loss=0.05,rtt=100"), rungs: [{ targetKbps: 200, width: 1024, height: 576 }] }));
    expect(cs.map((c) => c.method)).toEqual(["baseline", "context"]);
    expect(new Set(cs.map((c) => resultKey("s1", c))).size).toBe(2);
  });

  it("with --methods context only, runs context over the link with no baseline", () => {
    const cs = conditionsFor(config({ methods: ["context"], networks: parseNetworks("resilient@loss=0.1,rtt=100") }));
    expect(cs.map((c) => `${c.method} ${c.network.name} ${c.targetKbps}`)).toEqual([
      "context loss10-rtt100/resilient 200",
      "context loss10-rtt100/resilient 50",
    ]);
  });
});
