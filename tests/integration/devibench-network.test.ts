/**
 * DeViBench's network axis with both methods: one short synthetic clip (real ffmpeg) sent over a
 * lossy emulated link by the baseline sender and by the context-aware sender (region map planned
 * as bench:network plans it), with a scripted model that records what it was shown. Checks the
 * result records (method, network, per-frame latency), that the context sender carried a region
 * map and sent a different stream, that a sample without a region fails alone, and that the
 * detector's regions come from the baseline frames received over the link.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { parseNetworks } from "../../devibench/cli/args.ts";
import { generateSyntheticSet, loadSyntheticSet, TEXT_TASK } from "../../devibench/datasets/synthetic.ts";
import { linkFrames } from "../../devibench/network/link-frames.ts";
import { ResultLog } from "../../devibench/run/results.ts";
import { runBenchmark, type RunDeps } from "../../devibench/run/runner.ts";
import type { RunConfig, Sample, SampleResult } from "../../devibench/types.ts";
import type { MllmClient, NormalizedBox, VideoFrame } from "../../sfu/mllm/types.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const RUNG = { targetKbps: 150, width: 640, height: 360 };
const NETWORK = parseNetworks("classic@loss=0.05,rtt=100");
let dir: string;
let samples: Sample[];
let sourceSize: { width: number; height: number };

const digest = (f: VideoFrame) => createHash("sha1").update(f.rgb).digest("hex");

/** Answers the reference answer; remembers which frames each question was shown. */
function scriptedEngine(byQuestion: Map<string, string>, seen: Array<{ question: string; frames: string[] }>): MllmClient {
  return {
    name: "scripted",
    ask: async (req) => {
      seen.push({ question: req.question ?? "", frames: req.frames.map(digest) });
      return { text: byQuestion.get(req.question ?? "") ?? "unknown", cannotAnswer: false, model: "scripted", latencyMs: 1 };
    },
  };
}

function config(outDir: string, over: Partial<RunConfig> = {}): RunConfig {
  return {
    dataset: "synthetic", datasetPath: dir, videosDir: null, engine: "scripted", methods: ["baseline", "context"],
    regionSource: "ground-truth", rungs: [RUNG], networks: NETWORK, codec: "h264",
    sampling: { fps: 0.5, maxFrames: 3, maxSide: 640 }, scoring: "normalized-match", workers: 1, seed: 1, limit: null, outDir, ...over,
  };
}

function deps(engine: MllmClient, over: Partial<RunDeps> = {}): RunDeps {
  return {
    ffmpeg, engine, encodeJpeg: async () => new Uint8Array(), progress: { isTTY: false, write: () => {} }, log: () => {}, ...over,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "it-devibench-net-"));
  // One 5 s clip at 640x360 (the set's layout scaled down, 12 px text), its first text question.
  const m = await generateSyntheticSet(ffmpeg, join(dir, "set"), { seed: 3, clips: 1, width: 640, height: 360, fontSizes: [12] });
  sourceSize = { width: m.clips[0]!.width, height: m.clips[0]!.height };
  samples = loadSyntheticSet(join(dir, "set")).filter((s) => s.taskType === TEXT_TASK).slice(0, 1);
  expect(samples).toHaveLength(1);
  expect(samples[0]!.regions?.length).toBeGreaterThan(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("devibench run --network with the context-aware method", () => {
  const out = () => join(dir, "run");
  const seen: Array<{ question: string; frames: string[] }> = [];
  let results: SampleResult[];

  beforeAll(async () => {
    const s = samples[0]!;
    // The same clip and question without its region: its context result fails, the others go on.
    const noRegion: Sample = { ...s, id: `${s.id}-noregion`, regions: [] };
    const log = new ResultLog(join(out(), "results.jsonl"));
    const engine = scriptedEngine(new Map([[s.question, s.answer]]), seen);
    results = (await runBenchmark(config(out()), [s, noRegion], deps(engine), log)).results;
  });

  it("writes a context result over the link with the network's name and its frame latencies", () => {
    expect(results).toHaveLength(4);
    const ctx = results.find((r) => r.sampleId === samples[0]!.id && r.condition.method === "context")!;
    expect(ctx, JSON.stringify(results)).toBeDefined();
    expect(ctx.condition.network).toEqual(NETWORK[0]);
    expect(ctx.condition.network.name).toBe("loss5-rtt100/classic");
    expect(ctx.condition.regionSource).toBe("ground-truth");
    expect(ctx.status, JSON.stringify(ctx.error)).toBe("answered");
    expect(ctx.correct).toBe(true);
    expect(ctx.frames).toBeGreaterThan(0);
    // 5 s at the classic sender's 15 fps: one latency per captured frame.
    expect(ctx.frameLatencyMs).toHaveLength(75);
    expect(ctx.frameLatencyMs!.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    const base = results.find((r) => r.sampleId === samples[0]!.id && r.condition.method === "baseline")!;
    expect(base.status).toBe("answered");
    expect(base.frameLatencyMs).toHaveLength(75);
    // Results are also on disk, one per sample and condition.
    const lines = readFileSync(join(out(), "results.jsonl"), "utf8").split("\n").filter(Boolean);
    expect(lines).toHaveLength(4);
  });

  it("a sample without a region ends as an error for context only; its baseline is answered", () => {
    const bad = results.filter((r) => r.sampleId.endsWith("-noregion"));
    expect(bad.find((r) => r.condition.method === "context")).toMatchObject({ status: "error", error: { code: "INVALID_MAP" } });
    expect(bad.find((r) => r.condition.method === "baseline")!.status).toBe("answered");
  });

  it("the context sender carries a region map and sends another stream than the baseline", async () => {
    // The model saw different frames for the two methods.
    const frames = seen.filter((x) => x.question === samples[0]!.question).map((x) => x.frames.join(","));
    expect(frames).toHaveLength(3); // baseline twice (two samples), context once
    expect(new Set(frames).size).toBe(2);
    // Both link runs again, from the run's cache: same settings but the region map.
    const network = readdirSync(join(out(), "encodes")).map((d) => join(out(), "encodes", d, "network"))[0]!;
    const common = {
      ffmpeg, codec: "h264" as const, input: samples[0]!.videoPath!, durationSec: samples[0]!.durationSec,
      sourceWidth: sourceSize.width, sourceHeight: sourceSize.height, width: RUNG.width, height: RUNG.height,
      bitrateKbps: RUNG.targetKbps, spec: "loss=0.05,rtt=100", policy: "classic" as const, seed: 1, clipIndex: 0, clipCount: 1,
      timesSec: [1, 3], maxSide: 640, cacheDir: network,
    };
    const b = await linkFrames(common);
    const c = await linkFrames({ ...common, regions: samples[0]!.regions! });
    expect(b.sender.roi).toBeUndefined();
    expect(c.sender.roi!.length).toBeGreaterThan(0);
    expect(c.sender.roi![0]!.rects.length).toBeGreaterThan(0);
    expect({ ...c.sender, roi: undefined }).toEqual({ ...b.sender, roi: undefined });
    expect(c.frames.map(digest)).not.toEqual(b.frames.map(digest));
    // Two cached streams side by side (neither overwrote the other), with different bytes.
    const streams = readdirSync(network).filter((f) => f.endsWith("-from0.h264"));
    expect(streams).toHaveLength(2);
    const [x, y] = streams.map((f) => readFileSync(join(network, f)));
    expect(Buffer.compare(x!, y!)).not.toBe(0);
  });

  it("with --region-source detector, finds regions on the baseline frame received over the link", async () => {
    const s = samples[0]!;
    const shown: string[] = [];
    const detectorSeen: Array<{ question: string; frames: string[] }> = [];
    const box: NormalizedBox = {
      x: s.regions![0]!.x / sourceSize.width, y: s.regions![0]!.y / sourceSize.height,
      width: s.regions![0]!.width / sourceSize.width, height: s.regions![0]!.height / sourceSize.height,
    };
    const engine = scriptedEngine(new Map([[s.question, s.answer]]), detectorSeen);
    const findRegions = async (_q: string, frame: VideoFrame) => {
      shown.push(digest(frame));
      return [box];
    };
    const log = new ResultLog(join(out(), "results.jsonl"), results);
    const r = await runBenchmark(config(out(), { regionSource: "detector" }), [s], deps(engine, { findRegions }), log);
    const ctx = r.results.find((x) => x.sampleId === s.id && x.condition.method === "context" && x.condition.regionSource === "detector")!;
    expect(ctx.status, JSON.stringify(ctx.error)).toBe("answered");
    expect(ctx.condition.network.name).toBe("loss5-rtt100/classic");
    // Baseline over the link was done already (same key): only the context question was asked.
    expect(detectorSeen).toHaveLength(1);
    // The detector looked at the first frame the link's baseline run gave the model.
    const baselineFirst = seen.find((x) => x.question === s.question)!.frames[0];
    expect(shown).toEqual([baselineFirst]);
  });
});
