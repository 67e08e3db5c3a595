/**
 * Flags of `devibench run`, validated into a typed configuration. Every bad flag is reported by
 * name with what was wrong and what is allowed.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULT_LADDER, rungsByKbps } from "../../encoder/ladder/rungs.ts";
import { LinkError } from "../../sfu/link/index.ts";
import { FAMILIES } from "../datasets/synthetic/questions.ts";
import { parseCondition } from "../network/conditions.ts";
import type { DatasetName, Method, NetworkCondition, RegionSource } from "../types.ts";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export const RUN_HELP = `Usage: devibench run [options]

Scores an MLLM's answers after each video went through the encoder (and, later, a degraded
network), baseline against context-aware, at each bitrate rung. Prints its configuration first,
a progress bar with ETA, then the accuracy table. Results go to --out: results.jsonl (one line
per sample and condition; a run started again in the same folder resumes), summary.csv and
report.html.

Dataset
  --dataset NAME        synthetic (default), devibench-v2 or devibench-v1
  --data DIR            synthetic: where the generated set lives (default .cache/devibench/synthetic-v2-s<seed>-c<clips>,
                        generated when missing); devibench-*: the CSV file (default the copy in devibench/data/)
  --videos DIR          devibench-*: folder of StreamingBench videos (sample_<id>/video.mp4 or <id>.mp4)
  --clips N             synthetic: number of clips to generate (default 20; 6-10 questions each: about
                        15-20 per phrasing family, enough that one hard sign moves a family by 5-7 points)
  --tasks LIST          task types to ask, comma-separated, or "all"; "text" (Text-Rich Understanding),
                        "attribute" (Attribute Perception) and "counting" (Counting) are short for them.
                        Default: with the embedded engine text questions and the colour-of family (what
                        it can answer), else "all"; "all" when --families is given
  --families LIST       synthetic: question phrasing families to ask, comma-separated (default all):
                        label, colour, position, size, bare (text), colour-of (colour of a sign or its
                        letters), square-colour, count. E.g. --families colour,colour-of
  --limit N             only the first N samples

Model
  --engine NAME         embedded (default: PP-OCRv4 on onnxruntime, offline, reads text) or openai
  --base-url URL        openai: the endpoint, e.g. http://127.0.0.1:8000/v1 (vLLM, Ollama, llama.cpp, LM Studio)
  --model NAME          openai: model name
  --api-key-env VAR     openai: environment variable holding the API key (default OPENAI_API_KEY; may be unset)
  --timeout-ms N        openai: per-request timeout (default 60000)
  --retries N           openai: retries of a failed request, with exponential backoff (default 3)
  --concurrency N       openai: requests in flight at once (default 4)

Conditions
  --methods LIST        baseline,context (default both)
  --region-source SRC   context-aware regions from: ground-truth (default for synthetic), detector (the
                        embedded text detector on the received baseline frame; default for devibench-*),
                        or grounding (the model's own boxes; openai engine)
  --rungs LIST          target kbps, from ${DEFAULT_LADDER.map((r) => r.targetKbps).join(",")} (default all)
  --codec C             h264 (default) or vp8
  --network LIST        network conditions, separated by ";": none (default), or POLICY@SPEC with POLICY
                        classic or resilient and SPEC as bench:network's --condition, e.g.
                        "none;classic@loss=0.05,rtt=100;resilient@loss=0.05,rtt=100". Over a link both
                        methods run; the context-aware sender carries the region map

Sampling and scoring
  --fps N               frames per second shown to the model (default 0.5)
  --max-frames N        at most this many frames per question (default 3)
  --max-side N          frames scaled down to this longer side (default 1280)
  --scoring MODE        match (normalised match, default) or judge (LLM judge via --judge-model)
  --judge-model NAME    openai: the model that judges (same endpoint)

Run
  --workers N           clips processed at once (default 2)
  --seed N              seed of the synthetic set (default 1)
  --out DIR             results folder (default out/devibench/<dataset>-<time>); an existing one resumes
  --retry-errors        on resume, run again the results that ended in an error
  --json                end with one JSON line: {"samples","wallSeconds","accuracy":{method:{kbps:acc}},...}
  --help                this text`;

export interface RunArgs {
  readonly dataset: DatasetName;
  readonly data: string | null;
  readonly videos: string | null;
  readonly clips: number;
  readonly tasks: "text" | "all" | readonly string[] | null;
  /** Phrasing families to keep (synthetic set); null: all. */
  readonly families: readonly string[] | null;
  readonly limit: number | null;
  readonly engine: "embedded" | "openai";
  readonly baseUrl: string | null;
  readonly model: string | null;
  readonly apiKeyEnv: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly concurrency: number;
  readonly methods: readonly Method[];
  readonly regionSource: RegionSource | null;
  readonly rungs: ReadonlyArray<{ targetKbps: number; width: number; height: number }>;
  readonly codec: "h264" | "vp8";
  readonly networks: readonly NetworkCondition[];
  readonly fps: number;
  readonly maxFrames: number;
  readonly maxSide: number;
  readonly scoring: "normalized-match" | "llm-judge";
  readonly judgeModel: string | null;
  readonly workers: number;
  readonly seed: number;
  readonly out: string | null;
  readonly retryErrors: boolean;
  readonly json: boolean;
}

const int = (name: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().transform((s, ctx) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < min || v > max) {
      ctx.addIssue({ code: "custom", message: `--${name} must be a whole number from ${min} to ${max}, got "${s}"` });
      return z.NEVER;
    }
    return v;
  });

const num = (name: string, min: number, max: number) =>
  z.string().transform((s, ctx) => {
    const v = Number(s);
    if (!Number.isFinite(v) || v <= min || v > max) {
      ctx.addIssue({ code: "custom", message: `--${name} must be a number above ${min} and at most ${max}, got "${s}"` });
      return z.NEVER;
    }
    return v;
  });

const oneOf = <T extends string>(name: string, values: readonly T[]) =>
  z.string().refine((s): s is T => (values as readonly string[]).includes(s), { message: `--${name} must be one of ${values.join(", ")}` }) as unknown as z.ZodType<T, string>;

export function parseRunArgs(argv: readonly string[]): RunArgs | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        dataset: { type: "string" }, data: { type: "string" }, videos: { type: "string" }, clips: { type: "string" },
        tasks: { type: "string" }, families: { type: "string" }, limit: { type: "string" }, engine: { type: "string" }, "base-url": { type: "string" },
        model: { type: "string" }, "api-key-env": { type: "string" }, "timeout-ms": { type: "string" }, retries: { type: "string" },
        concurrency: { type: "string" }, methods: { type: "string" }, "region-source": { type: "string" }, rungs: { type: "string" },
        codec: { type: "string" }, network: { type: "string" }, fps: { type: "string" }, "max-frames": { type: "string" }, "max-side": { type: "string" },
        scoring: { type: "string" }, "judge-model": { type: "string" }, workers: { type: "string" }, seed: { type: "string" },
        out: { type: "string" }, "retry-errors": { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return "help";
  const get = <T>(name: string, schema: z.ZodType<T, string>, fallback: T): T => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const r = schema.safeParse(String(raw));
    if (!r.success) throw new UsageError(r.error.issues[0]?.message ?? `--${name} is not valid`);
    return r.data;
  };
  const list = (name: string) => (values[name] === undefined ? null : String(values[name]).split(",").map((s) => s.trim()).filter(Boolean));

  const dataset = get("dataset", oneOf("dataset", ["synthetic", "devibench-v2", "devibench-v1"] as const), "synthetic");
  const engine = get("engine", oneOf("engine", ["embedded", "openai"] as const), "embedded");
  const methods = (list("methods") ?? ["baseline", "context"]).map((m) => {
    if (m !== "baseline" && m !== "context") throw new UsageError(`--methods: "${m}" is not a method; use baseline, context`);
    return m;
  });
  const rungKbps = (list("rungs") ?? DEFAULT_LADDER.map((r) => String(r.targetKbps))).map((k) => {
    const v = Number(k);
    if (!Number.isFinite(v) || v <= 0) throw new UsageError(`--rungs: "${k}" is not a positive number of kbps`);
    return v;
  });
  let rungs;
  try {
    rungs = rungsByKbps(rungKbps);
  } catch (err) {
    throw new UsageError(`--rungs: ${(err as Error).message}`);
  }
  const tasksRaw = values.tasks === undefined ? null : String(values.tasks);
  const scoring = get("scoring", oneOf("scoring", ["match", "judge"] as const), "match");
  const args: RunArgs = {
    dataset,
    data: (values.data as string | undefined) ?? null,
    videos: (values.videos as string | undefined) ?? null,
    clips: get("clips", int("clips", 1, 10_000), 20),
    tasks: tasksRaw === null ? null : tasksRaw === "all" || tasksRaw === "text" ? tasksRaw : tasksRaw.split(",").map((s) => s.trim()),
    families: values.families === undefined ? null : parseFamilies(String(values.families)),
    limit: values.limit === undefined ? null : get("limit", int("limit", 1), 1),
    engine,
    baseUrl: (values["base-url"] as string | undefined) ?? null,
    model: (values.model as string | undefined) ?? null,
    apiKeyEnv: (values["api-key-env"] as string | undefined) ?? "OPENAI_API_KEY",
    timeoutMs: get("timeout-ms", int("timeout-ms", 1, 3_600_000), 60_000),
    retries: get("retries", int("retries", 0, 20), 3),
    concurrency: get("concurrency", int("concurrency", 1, 256), 4),
    methods,
    regionSource: values["region-source"] === undefined ? null : get("region-source", oneOf("region-source", ["ground-truth", "detector", "grounding"] as const), "ground-truth"),
    rungs,
    codec: get("codec", oneOf("codec", ["h264", "vp8"] as const), "h264"),
    networks: parseNetworks(values.network === undefined ? "none" : String(values.network)),
    fps: get("fps", num("fps", 0, 60), 0.5),
    maxFrames: get("max-frames", int("max-frames", 1, 64), 3),
    maxSide: get("max-side", int("max-side", 64, 8192), 1280),
    scoring: scoring === "match" ? "normalized-match" : "llm-judge",
    judgeModel: (values["judge-model"] as string | undefined) ?? null,
    workers: get("workers", int("workers", 1, 64), 2),
    seed: get("seed", int("seed", 0, 2 ** 31 - 1), 1),
    out: (values.out as string | undefined) ?? null,
    retryErrors: Boolean(values["retry-errors"]),
    json: Boolean(values.json),
  };
  if (engine === "openai" && (!args.baseUrl || !args.model)) {
    throw new UsageError("--engine openai needs --base-url and --model");
  }
  if (args.scoring === "llm-judge" && (engine !== "openai" || !args.judgeModel)) {
    throw new UsageError("--scoring judge needs --engine openai and --judge-model");
  }
  if (args.regionSource === "grounding" && engine !== "openai") {
    throw new UsageError("--region-source grounding needs --engine openai (the embedded engine's regions are --region-source detector)");
  }
  if (args.families !== null && dataset !== "synthetic") {
    throw new UsageError("--families needs the synthetic set: DeViBench rows carry no phrasing family");
  }
  if (args.regionSource === "ground-truth" && dataset !== "synthetic") {
    throw new UsageError("--region-source ground-truth needs the synthetic set: DeViBench rows carry no regions");
  }
  return args;
}

/** `--families`: known family names, comma-separated ("color" spellings accepted); a bad one is named. */
export function parseFamilies(text: string): string[] {
  const items = text.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--families is empty; give some of ${FAMILIES.join(", ")}`);
  const out: string[] = [];
  for (const item of items) {
    const name = item.replace(/^color/, "colour").replace(/-color$/, "-colour");
    if (!(FAMILIES as readonly string[]).includes(name)) {
      throw new UsageError(`--families: "${item}" is not a question family; use ${FAMILIES.join(", ")}`);
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** `--network`: "none" or POLICY@SPEC items separated by ";"; a bad spec names its field. */
export function parseNetworks(text: string): NetworkCondition[] {
  const items = text.split(";").map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--network is empty; give "none" or e.g. "classic@loss=0.05,rtt=100"`);
  const out: NetworkCondition[] = [];
  for (const item of items) {
    if (item === "none") {
      out.push({ name: "none", kind: "none" });
      continue;
    }
    const at = item.indexOf("@");
    const policy = at < 0 ? "" : item.slice(0, at).trim();
    if (policy !== "classic" && policy !== "resilient") {
      throw new UsageError(`--network: "${item}" must be "none" or POLICY@SPEC with POLICY classic or resilient`);
    }
    const spec = item.slice(at + 1).trim();
    let name: string;
    try {
      name = parseCondition(spec).name;
    } catch (err) {
      if (err instanceof LinkError) throw new UsageError(`--network "${item}": ${err.message} (field ${err.field})`);
      throw err;
    }
    const full = `${name}/${policy}`;
    if (out.some((n) => n.name === full)) throw new UsageError(`--network: "${full}" is given twice`);
    out.push({ name: full, kind: "link", spec, policy });
  }
  return out;
}
