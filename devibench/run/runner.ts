/**
 * Runs DeViBench: every sample under every condition (method x bitrate rung x network), through
 * the project's own encoder, then the model, then the scorer. Work is grouped by clip (one clip,
 * several questions), clips run on N workers, encodes are cached by clip, method, region and
 * rung, and each result is appended to results.jsonl as soon as it is known.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EncoderError } from "../../encoder/errors.ts";
import { encodeVideo, type EncodeResult } from "../../encoder/ffmpeg/encode.ts";
import { probeVideo } from "../../encoder/ffmpeg/probe.ts";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import { mapFromRegions } from "../../encoder/importance/map.ts";
import { planContextEncode } from "../../encoder/ladder/ladder.ts";
import { MllmError, devibenchPrompt, type MllmClient, type NormalizedBox, type VideoFrame } from "../../sfu/mllm/types.ts";
import type { Condition, PixelBox, RunConfig, Sample, SampleResult } from "../types.ts";
import { type LinkFrames, linkFrames } from "../network/link-frames.ts";
import { ProgressBar, runPool, type ProgressSink } from "./progress.ts";
import { ResultLog } from "./results.ts";
import { decodeSampledFrames, sampleTimes } from "./sampler.ts";
import { scoreAnswer } from "./score.ts";

export interface Example {
  readonly sampleId: string;
  readonly question: string;
  readonly reference: string;
  readonly targetKbps: number;
  readonly baseline: { readonly jpeg: string; readonly answer: string | null; readonly correct: boolean };
  readonly context: { readonly jpeg: string; readonly answer: string | null; readonly correct: boolean };
}

export interface RunDeps {
  readonly ffmpeg: string;
  readonly engine: MllmClient;
  /** Region source for "detector" (text boxes matched to the question) and "grounding". */
  readonly findRegions?: (question: string, frame: VideoFrame) => Promise<NormalizedBox[]>;
  readonly judge?: MllmClient;
  readonly encodeJpeg: (frame: VideoFrame) => Promise<Uint8Array>;
  readonly progress: ProgressSink;
  readonly log: (line: string) => void;
}

export interface RunOutcome {
  readonly results: SampleResult[];
  readonly examples: Example[];
  readonly skipped: number;
}

type LinkNetwork = Extract<Condition["network"], { kind: "link" }>;

interface Unit {
  readonly key: string;
  readonly samples: Sample[];
}

const hash = (v: unknown) => createHash("sha1").update(JSON.stringify(v)).digest("hex").slice(0, 12);

function errorInfo(err: unknown): { code: string; message: string } {
  if (err instanceof EncoderError || err instanceof MllmError) return { code: err.code, message: err.message };
  return { code: "UNEXPECTED", message: (err as Error)?.message ?? String(err) };
}

export function conditionsFor(config: RunConfig): Condition[] {
  const out: Condition[] = [];
  for (const network of config.networks) {
    for (const rung of config.rungs) {
      for (const method of config.methods) {
        out.push({
          method, targetKbps: rung.targetKbps, width: rung.width, height: rung.height, network,
          ...(method === "context" ? { regionSource: config.regionSource } : {}),
        });
      }
    }
  }
  return out;
}

export async function runBenchmark(config: RunConfig, samples: readonly Sample[], deps: RunDeps, log: ResultLog): Promise<RunOutcome> {
  mkdirSync(config.outDir, { recursive: true });
  const conditions = conditionsFor(config);
  const units = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = `${s.videoPath ?? `missing:${s.id}`}@${s.startSec}`;
    units.set(key, [...(units.get(key) ?? []), s]);
  }
  const todo: Unit[] = [...units].map(([key, ss]) => ({ key, samples: ss }));
  const total = samples.length * conditions.length;
  const already = samples.reduce((n, s) => n + conditions.filter((c) => log.has(s.id, c)).length, 0);
  const bar = new ProgressBar(total, "devibench", deps.progress);
  if (already > 0) {
    bar.tick(already, "resumed");
    deps.log(`resuming: ${already} of ${total} results already in results.jsonl`);
  }
  const examples: Example[] = [];
  await runPool(todo, config.workers, async (unit, index) => {
    await runUnit(config, deps, log, unit, index, todo.length, conditions, bar, examples);
  });
  writeFileSync(join(config.outDir, "examples.json"), JSON.stringify(mergeExamples(config.outDir, examples), null, 1));
  return { results: log.all(), examples, skipped: already };
}

function mergeExamples(outDir: string, fresh: Example[]): Example[] {
  const path = join(outDir, "examples.json");
  const old: Example[] = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Example[]) : [];
  const key = (e: Example) => `${e.sampleId}@${e.targetKbps}`;
  const byKey = new Map(old.map((e) => [key(e), e]));
  for (const e of fresh) byKey.set(key(e), e);
  return [...byKey.values()];
}

async function runUnit(
  config: RunConfig, deps: RunDeps, log: ResultLog, unit: Unit, unitIndex: number, unitCount: number,
  conditions: Condition[], bar: ProgressBar, examples: Example[],
): Promise<void> {
  const pending = (c: Condition) => unit.samples.filter((s) => !log.has(s.id, c));
  if (conditions.every((c) => pending(c).length === 0)) return;
  const first = unit.samples[0]!;
  const unitDir = join(config.outDir, "encodes", hash(unit.key));
  mkdirSync(unitDir, { recursive: true });

  const fail = (c: Condition, ss: readonly Sample[], err: unknown) => {
    const info = errorInfo(err);
    for (const s of ss) {
      log.append(result(s, c, { status: "error", error: info }));
      bar.tick(1, `${info.code}`);
    }
  };

  // 1. The source segment (a DeViBench question is about 5 s of a longer video).
  let source: string;
  let info: { width: number; height: number; fps: number };
  try {
    if (first.videoPath === null) {
      throw new EncoderError("INPUT_MISSING", `no video found for sample ${first.id} (looked for the layouts in devibench/data/README.md)`);
    }
    source = first.dataset === "synthetic" ? first.videoPath : await cutSegment(deps.ffmpeg, first, unitDir);
    const p = await probeVideo(deps.ffmpeg, source);
    info = { width: p.width, height: p.height, fps: p.fps ?? 30 };
  } catch (err) {
    for (const c of conditions) fail(c, pending(c), err);
    return;
  }

  // Context samples by region set, one encode per set (questions about the same sign share it);
  // a sample whose regions cannot be found fails alone.
  const groupByRegions = async (c: Condition, ss: readonly Sample[], frames: () => Promise<VideoFrame[]>) => {
    const groups = new Map<string, { regions: PixelBox[]; samples: Sample[] }>();
    for (const s of ss) {
      let regions: PixelBox[];
      try {
        regions = await regionsFor(config, deps, s, await frames(), info);
      } catch (err) {
        fail(c, [s], err);
        continue;
      }
      const k = hash(regions);
      groups.set(k, { regions, samples: [...(groups.get(k)?.samples ?? []), s] });
    }
    return groups;
  };
  const times = sampleTimes(first.durationSec, config.sampling);
  for (const rung of config.rungs) {
    // Over an emulated link: sender, link and receive policy of devibench/network, then the model.
    // One link run per network and region set (null: baseline), shared by whoever needs it; a
    // failed run fails everyone who asked for it.
    const linkRuns = new Map<string, Promise<LinkFrames>>();
    const overLink = (network: LinkNetwork, regions: readonly PixelBox[] | null): Promise<LinkFrames> => {
      const k = `${network.name}#${regions ? hash(regions) : "baseline"}`;
      let run = linkRuns.get(k);
      if (!run) {
        run = linkFrames({
          ffmpeg: deps.ffmpeg, codec: config.codec, input: source, durationSec: first.durationSec,
          sourceWidth: info.width, sourceHeight: info.height, width: rung.width, height: rung.height,
          bitrateKbps: rung.targetKbps, spec: network.spec, policy: network.policy, seed: config.seed, clipIndex: unitIndex,
          clipCount: unitCount, timesSec: times, maxSide: config.sampling.maxSide, cacheDir: join(unitDir, "network"), regions,
        });
        linkRuns.set(k, run);
      }
      return run;
    };
    const answerLink = async (c: Condition, ss: readonly Sample[], net: LinkFrames, label: string) => {
      const enc = { kbps: net.sentKbps, encodeMs: net.encodeMs };
      for (const s of ss) {
        const r = net.frames.length > 0
          ? await answerOne(config, deps, s, c, net.frames, enc, net.latenciesMs)
          : result(s, c, { status: "cannot-answer", answer: "no frame had arrived by the sampled times", frameLatencyMs: net.latenciesMs });
        log.append(r);
        bar.tick(1, `${s.id} ${rung.targetKbps}k ${label} ${c.network.name}`);
      }
    };
    for (const c of conditions.filter((c) => c.targetKbps === rung.targetKbps && c.network.kind === "link")) {
      const ss = pending(c);
      const network = c.network;
      if (ss.length === 0 || network.kind !== "link") continue;
      if (c.method === "baseline") {
        let net: LinkFrames;
        try {
          net = await overLink(network, null);
        } catch (err) {
          fail(c, ss, err);
          continue;
        }
        await answerLink(c, ss, net, "baseline");
        continue;
      }
      // Context over the link: one region-aware send per distinct region set. Ground-truth
      // regions need no frame. The detector and grounding look at what the server would have
      // before any question shapes the encode: the baseline frames received over this same link
      // (as in a call), not the no-network baseline's, which the server never sees here.
      const groups = await groupByRegions(c, ss, async () => (config.regionSource === "ground-truth" ? [] : (await overLink(network, null)).frames));
      for (const g of groups.values()) {
        let net: LinkFrames;
        try {
          net = await overLink(network, g.regions);
        } catch (err) {
          fail(c, g.samples, err);
          continue;
        }
        await answerLink(c, g.samples, net, "context");
      }
    }
    const rungConds = conditions.filter((c) => c.targetKbps === rung.targetKbps && c.network.kind === "none");
    if (rungConds.every((c) => pending(c).length === 0)) continue;
    const tag = `${rung.targetKbps}k-${rung.width}x${rung.height}-${config.codec}`;
    const ext = config.codec === "h264" ? "h264" : "ivf";
    const encode = async (name: string, extra: Partial<Parameters<typeof encodeVideo>[0]>): Promise<EncodeResult & { encodeMs: number }> => {
      const output = join(unitDir, `${tag}-${name}.${ext}`);
      const meta = `${output}.json`;
      if (existsSync(output) && existsSync(meta)) return JSON.parse(readFileSync(meta, "utf8")) as EncodeResult & { encodeMs: number };
      const r = await encodeVideo({
        ffmpeg: deps.ffmpeg, input: source, output, codec: config.codec, width: rung.width, height: rung.height,
        bitrateKbps: rung.targetKbps, fps: info.fps, durationSec: first.durationSec, ...extra,
      });
      const withMs = { ...r, encodeMs: Math.round(r.encodeSeconds * 1000) };
      writeFileSync(meta, JSON.stringify(withMs));
      return withMs;
    };
    const framesOf = (r: EncodeResult) =>
      decodeSampledFrames({
        ffmpeg: deps.ffmpeg, inputArgs: config.codec === "h264" ? ["-f", "h264", "-i", r.output] : ["-i", r.output],
        width: rung.width, height: rung.height, streamFps: info.fps, times, maxSide: config.sampling.maxSide,
      });

    let baseline: (EncodeResult & { encodeMs: number }) | null = null;
    let baselineFrames: VideoFrame[] = [];
    try {
      baseline = await encode("baseline", {});
      baselineFrames = await framesOf(baseline);
    } catch (err) {
      for (const c of rungConds) fail(c, pending(c), err);
      continue;
    }
    const answers = new Map<string, { answer: string | null; correct: boolean }>();
    for (const c of rungConds.filter((c) => c.method === "baseline")) {
      for (const s of pending(c)) {
        const r = await answerOne(config, deps, s, c, baselineFrames, baseline);
        log.append(r);
        answers.set(`b:${s.id}`, r);
        bar.tick(1, `${s.id} ${rung.targetKbps}k baseline`);
      }
    }
    for (const c of rungConds.filter((c) => c.method === "context")) {
      const groups = await groupByRegions(c, pending(c), async () => baselineFrames);
      for (const [k, g] of groups) {
        try {
          const map = mapFromRegions(info.width, info.height, 64, g.regions);
          const plan = await planContextEncode({
            ffmpeg: deps.ffmpeg, input: source, fps: info.fps, codec: config.codec, rung, baseline: baseline!,
            maps: [{ atSec: 0, map }], useEncoderRoi: true,
          });
          const ctx = await encode(`context-${c.regionSource}-${k}`, { roi: plan.roi });
          const frames = await framesOf(ctx);
          for (const s of g.samples) {
            const r = await answerOne(config, deps, s, c, frames, ctx);
            log.append(r);
            answers.set(`c:${s.id}`, r);
            bar.tick(1, `${s.id} ${rung.targetKbps}k context`);
            if (unitIndex < 3 && !examples.some((e) => e.sampleId === s.id && e.targetKbps === rung.targetKbps) && baselineFrames[0] && frames[0] && answers.has(`b:${s.id}`)) {
              examples.push(await example(config, deps, s, rung.targetKbps, baselineFrames[0], frames[0], answers.get(`b:${s.id}`)!, r));
            }
          }
        } catch (err) {
          fail(c, g.samples, err);
        }
      }
    }
  }
}

async function example(
  config: RunConfig, deps: RunDeps, s: Sample, kbps: number, b: VideoFrame, c: VideoFrame,
  ba: { answer: string | null; correct: boolean }, ca: { answer: string | null; correct: boolean },
): Promise<Example> {
  const dir = join(config.outDir, "examples");
  mkdirSync(dir, { recursive: true });
  const base = `${s.id.replace(/[^\w.-]+/g, "_")}-${kbps}k`;
  writeFileSync(join(dir, `${base}-baseline.jpg`), await deps.encodeJpeg(b));
  writeFileSync(join(dir, `${base}-context.jpg`), await deps.encodeJpeg(c));
  return {
    sampleId: s.id, question: s.question, reference: s.answer, targetKbps: kbps,
    baseline: { jpeg: `examples/${base}-baseline.jpg`, answer: ba.answer, correct: ba.correct },
    context: { jpeg: `examples/${base}-context.jpg`, answer: ca.answer, correct: ca.correct },
  };
}

/** Where the context-aware method puts the bits, from the run's region source. */
async function regionsFor(config: RunConfig, deps: RunDeps, s: Sample, frames: VideoFrame[], info: { width: number; height: number }): Promise<PixelBox[]> {
  if (config.regionSource === "ground-truth") {
    if (!s.regions || s.regions.length === 0) {
      throw new EncoderError("INVALID_MAP", `sample ${s.id} has no ground-truth region; use --region-source detector or grounding`);
    }
    return [...s.regions];
  }
  if (!deps.findRegions) throw new EncoderError("INVALID_OPTION", `region source ${config.regionSource} needs a detector or a grounding model`);
  const frame = frames[0];
  if (!frame) return [];
  // What the server would have: the baseline frame at this bitrate, not the pristine source.
  const boxes = await deps.findRegions(s.question, frame);
  return boxes.map((b) => ({ x: b.x * info.width, y: b.y * info.height, width: b.width * info.width, height: b.height * info.height }));
}

async function answerOne(
  config: RunConfig, deps: RunDeps, s: Sample, c: Condition, frames: VideoFrame[], enc: { kbps: number; encodeMs: number },
  frameLatencyMs?: readonly number[],
): Promise<SampleResult> {
  const common = {
    achievedKbps: Math.round(enc.kbps * 10) / 10, encodeMs: enc.encodeMs, frames: frames.length,
    ...(frameLatencyMs ? { frameLatencyMs } : {}),
  };
  try {
    const question = s.options ? `${s.question}\n${s.options.join("\n")}` : s.question;
    const a = await deps.engine.ask({ prompt: devibenchPrompt(question), question: s.question, frames });
    if (a.cannotAnswer) {
      return result(s, c, { ...common, status: "cannot-answer", answer: a.text, answerMs: Math.round(a.latencyMs), scoring: "none" });
    }
    const sc = await scoreAnswer(config.scoring, s, a.text, deps.judge);
    return result(s, c, { ...common, status: "answered", answer: a.text, correct: sc.correct, answerMs: Math.round(a.latencyMs), scoring: sc.method });
  } catch (err) {
    return result(s, c, { ...common, status: "error", error: errorInfo(err) });
  }
}

function result(s: Sample, c: Condition, r: Partial<SampleResult> & Pick<SampleResult, "status">): SampleResult {
  return {
    sampleId: s.id, dataset: s.dataset, taskType: s.taskType, ...(s.family !== undefined ? { family: s.family } : {}),
    question: s.question, reference: s.answer, condition: c,
    answer: null, correct: false, scoring: "none", achievedKbps: null, frames: 0, encodeMs: null, answerMs: null,
    finishedAt: new Date().toISOString(), ...r,
  };
}

/** Cuts the question's 5-second segment losslessly (H.264 QP 0), once per run. */
async function cutSegment(ffmpeg: string, s: Sample, dir: string): Promise<string> {
  const out = join(dir, "segment.mkv");
  if (existsSync(out)) return out;
  const info = await probeVideo(ffmpeg, s.videoPath!);
  if (info.durationSec !== null && s.startSec >= info.durationSec) {
    throw new EncoderError("INPUT_CORRUPT", `sample ${s.id} starts at ${s.startSec} s but ${s.videoPath} lasts ${info.durationSec} s`);
  }
  await runFfmpeg(ffmpeg, [
    "-y", "-loglevel", "error", "-ss", String(s.startSec), "-t", String(s.durationSec), "-i", s.videoPath!,
    "-map", "0:v:0", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-f", "matroska", `${out}.partial`,
  ]);
  renameSync(`${out}.partial`, out);
  return out;
}
