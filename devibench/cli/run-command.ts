/**
 * `devibench run`: loads the dataset, builds the engine, runs every condition, writes the results,
 * summary and report, and prints the accuracy table. The environment is read here and nowhere else.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { encodeJpeg } from "../../sfu/mllm/jpeg.ts";
import type { MllmClient } from "../../sfu/mllm/types.ts";
import { loadDevibench } from "../datasets/devibench.ts";
import { defaultSyntheticDir, generateSyntheticSet, loadSyntheticSet } from "../datasets/synthetic.ts";
import { ATTRIBUTE_TASK, COUNTING_TASK, TEXT_TASK } from "../datasets/synthetic/questions.ts";
import { accuracyBreakdown, accuracyTable, summarize, summaryCsv } from "../report/summary.ts";
import { readResults, ResultLog } from "../run/results.ts";
import { runBenchmark, type RunDeps } from "../run/runner.ts";
import type { RunConfig, Sample } from "../types.ts";
import { parseRunArgs, RUN_HELP, type RunArgs } from "./args.ts";
import { createEngines } from "./engines.ts";
import { writeReport } from "./report-command.ts";

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stderrIsTTY: boolean;
  readonly writeStderr: (text: string) => void;
}

const DEFAULT_V2 = new URL("../data/devibench-v2.csv", import.meta.url).pathname;
const DEFAULT_V1 = new URL("../data/devibench-v1.csv", import.meta.url).pathname;

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

async function loadSamples(args: RunArgs, ffmpeg: string, io: CliIo): Promise<{ samples: Sample[]; datasetPath: string }> {
  if (args.dataset === "synthetic") {
    const dir = resolve(io.cwd, args.data ?? defaultSyntheticDir(args.seed, args.clips));
    if (!existsSync(join(dir, "manifest.json"))) {
      io.out(`generating the synthetic set (${args.clips} clips, seed ${args.seed}) in ${dir}`);
      await generateSyntheticSet(ffmpeg, dir, { seed: args.seed, clips: args.clips }, (done, total) => io.writeStderr(`  clip ${done}/${total}\n`));
    }
    return { samples: loadSyntheticSet(dir), datasetPath: dir };
  }
  const path = resolve(io.cwd, args.data ?? (args.dataset === "devibench-v2" ? DEFAULT_V2 : DEFAULT_V1));
  const loaded = loadDevibench(path, { version: args.dataset === "devibench-v2" ? "v2" : "v1", ...(args.videos ? { videosDir: resolve(io.cwd, args.videos) } : {}) });
  const errors = loaded.problems.filter((p) => p.level === "error");
  io.out(`${path}: ${loaded.stats.rows} rows, ${loaded.samples.length} loaded, ${errors.length} rejected, ${loaded.missingVideos} without a video`);
  for (const p of errors.slice(0, 10)) io.err(`  line ${p.line}, ${p.field}: ${p.message}`);
  if (errors.length > 10) io.err(`  ... and ${errors.length - 10} more rejected rows`);
  if (!args.videos) io.err("  no --videos folder given: every sample will end as an error (INPUT_MISSING)");
  return { samples: loaded.samples, datasetPath: path };
}

/** Short names `--tasks` accepts for DeViBench's task types. */
const TASK_ALIASES: Readonly<Record<string, string>> = { text: TEXT_TASK, attribute: ATTRIBUTE_TASK, counting: COUNTING_TASK };

/**
 * The samples the run asks: by task type (`--tasks`), then by phrasing family (`--families`).
 * With neither, the embedded engine is asked what it can answer: text questions, and the colour
 * of a sign named by its text or place (family colour-of; it cannot tell the colour of a square
 * that carries no text); other engines are asked everything.
 */
export function filterSamples(samples: readonly Sample[], args: Pick<RunArgs, "tasks" | "families" | "engine">): { samples: Sample[]; tasks: string } {
  if (args.tasks === null && args.families === null && args.engine === "embedded") {
    const kept = samples.filter((s) => s.taskType === TEXT_TASK || s.family === "colour-of");
    return { samples: kept, tasks: `${TEXT_TASK} + colour-of` };
  }
  const tasks = args.tasks ?? "all";
  const wanted = tasks === "all" ? null : (tasks === "text" ? ["text"] : tasks).map((t) => TASK_ALIASES[t] ?? t);
  const families = args.families;
  const kept = samples.filter((s) => (wanted === null || wanted.includes(s.taskType)) && (families === null || (s.family !== undefined && families.includes(s.family))));
  const label = [wanted === null ? "all" : wanted.join(","), ...(families === null ? [] : [`families ${families.join(",")}`])].join("; ");
  return { samples: kept, tasks: label };
}

export async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseRunArgs(argv);
  if (parsed === "help") {
    io.out(RUN_HELP);
    return 0;
  }
  const args = parsed;
  const t0 = performance.now();
  const ffmpeg = resolveFfmpeg({ env: io.env }).path;
  const { samples: all, datasetPath } = await loadSamples(args, ffmpeg, io);
  const filtered = filterSamples(all, args);
  const samples = args.limit !== null ? filtered.samples.slice(0, args.limit) : filtered.samples;
  if (samples.length === 0) io.err(`no samples left after --tasks/--families (${filtered.tasks}): nothing will be asked`);
  const outDir = resolve(io.cwd, args.out ?? join("out", "devibench", `${args.dataset}-${stamp(new Date())}`));
  mkdirSync(outDir, { recursive: true });
  const config: RunConfig = {
    dataset: args.dataset,
    datasetPath,
    videosDir: args.videos ? resolve(io.cwd, args.videos) : null,
    engine: args.engine === "embedded" ? "embedded-ocr" : `openai:${args.model}`,
    methods: args.methods,
    regionSource: args.regionSource ?? (args.dataset === "synthetic" ? "ground-truth" : "detector"),
    rungs: args.rungs,
    networks: args.networks,
    codec: args.codec,
    sampling: { fps: args.fps, maxFrames: args.maxFrames, maxSide: args.maxSide },
    scoring: args.scoring,
    workers: args.workers,
    seed: args.seed,
    limit: args.limit,
    outDir,
  };
  io.out("devibench run configuration");
  io.out(JSON.stringify({ ...config, tasks: filtered.tasks, samples: samples.length, ffmpeg, baseUrl: args.baseUrl }, null, 2));
  writeFileSync(join(outDir, "config.json"), JSON.stringify({ ...config, tasks: filtered.tasks }, null, 2));

  const engines = await createEngines(args, config, ffmpeg, io.env);
  const resultsPath = join(outDir, "results.jsonl");
  const previous = readResults(resultsPath);
  if (previous.badLines.length > 0) io.err(`results.jsonl: skipped ${previous.badLines.length} unreadable line(s) (${previous.badLines.join(", ")}), most likely cut by an interrupted run`);
  const log = new ResultLog(resultsPath, previous.results, args.retryErrors);
  const deps: RunDeps = {
    ffmpeg,
    engine: engines.answer,
    ...(engines.findRegions ? { findRegions: engines.findRegions } : {}),
    ...(engines.judge ? { judge: engines.judge } : {}),
    encodeJpeg: (f) => encodeJpeg(ffmpeg, f, { maxSide: 640 }),
    progress: { isTTY: io.stderrIsTTY, write: io.writeStderr },
    log: io.err,
  };
  let outcome;
  try {
    outcome = await runBenchmark(config, samples, deps, log);
  } finally {
    await Promise.all([engines.answer.close?.(), engines.judge?.close?.(), engines.closeExtra?.()]);
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const ids = new Set(samples.map((s) => s.id));
  const results = outcome.results.filter((r) => ids.has(r.sampleId));
  const rows = summarize(results);
  writeFileSync(join(outDir, "summary.csv"), summaryCsv(rows));
  const reportPath = await writeReport(outDir, config, results);
  io.out("");
  io.out(`accuracy (${filtered.tasks === "all" ? "all task types" : filtered.tasks}), ${samples.length} samples:`);
  io.out(accuracyTable(rows));
  const errorCodes = new Map<string, number>();
  for (const r of results) if (r.status === "error") errorCodes.set(r.error?.code ?? "?", (errorCodes.get(r.error?.code ?? "?") ?? 0) + 1);
  if (errorCodes.size > 0) io.out(`errors: ${[...errorCodes].map(([c, n]) => `${c} x${n}`).join(", ")}`);
  io.out(`results: ${resultsPath}\nsummary: ${join(outDir, "summary.csv")}\nreport:  ${reportPath}\nwall time: ${wallSeconds.toFixed(1)} s`);
  if (args.json) {
    // `accuracy`, `accuracyByTask` and `accuracyByFamily` are for the first network condition (no
    // network unless --network says otherwise), so one network's figures never overwrite
    // another's; `accuracyByNetwork` has every network.
    const firstNetwork = config.networks[0]?.name;
    const breakdown = accuracyBreakdown(rows, firstNetwork);
    io.out(JSON.stringify({
      samples: samples.length, results: results.length, wallSeconds: Math.round(wallSeconds * 10) / 10,
      network: firstNetwork ?? null, ...breakdown, errors: Object.fromEntries(errorCodes), outDir,
    }));
  }
  return 0;
}

/** Reads a run folder's configuration (for `report`). */
export function readRunConfig(dir: string): RunConfig {
  return JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as RunConfig;
}
