/**
 * `devibench report --run DIR`: renders a finished (or partly finished) run again from its files:
 * results.jsonl, config.json and examples.json, into summary.csv and report.html.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderReport } from "../report/html.ts";
import { accuracyTable, summarize, summaryCsv } from "../report/summary.ts";
import { readResults } from "../run/results.ts";
import type { Example } from "../run/runner.ts";
import type { RunConfig, SampleResult } from "../types.ts";
import { UsageError } from "./args.ts";
import type { CliIo } from "./run-command.ts";

export const REPORT_HELP = `Usage: devibench report --run DIR [--out FILE]

Re-renders a run's summary.csv and self-contained report.html (accuracy-versus-bitrate charts per
method and per task type, the table, errors, and example frames side by side) from the files the
run wrote. Works on an interrupted run too.

  --run DIR     the run folder (holds config.json and results.jsonl)
  --out FILE    where to write the HTML (default DIR/report.html)
  --help        this text`;

export async function writeReport(dir: string, config: RunConfig, results: readonly SampleResult[], out = join(dir, "report.html")): Promise<string> {
  const examplesPath = join(dir, "examples.json");
  const examples: Example[] = existsSync(examplesPath) ? (JSON.parse(readFileSync(examplesPath, "utf8")) as Example[]) : [];
  const b64 = (rel: string) => (existsSync(join(dir, rel)) ? readFileSync(join(dir, rel)).toString("base64") : "");
  const html = renderReport({
    config,
    results: [...results],
    examples: examples.map((e) => ({
      sampleId: e.sampleId, question: e.question, reference: e.reference, targetKbps: e.targetKbps,
      baseline: { jpegBase64: b64(e.baseline.jpeg), answer: e.baseline.answer ?? "", correct: e.baseline.correct },
      context: { jpegBase64: b64(e.context.jpeg), answer: e.context.answer ?? "", correct: e.context.correct },
    })),
    title: `DeViBench: ${config.dataset}, ${config.engine}`,
    generatedAt: new Date().toISOString(),
  });
  writeFileSync(out, html);
  return out;
}

export async function reportCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let values: { run?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, options: { run: { type: "string" }, out: { type: "string" }, help: { type: "boolean" } } }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    io.out(REPORT_HELP);
    return 0;
  }
  if (!values.run) throw new UsageError("--run DIR is required: the folder of a run");
  const dir = resolve(io.cwd, values.run);
  const cfgPath = join(dir, "config.json");
  if (!existsSync(cfgPath)) throw new UsageError(`--run: ${dir} has no config.json; is it a devibench run folder?`);
  const config = JSON.parse(readFileSync(cfgPath, "utf8")) as RunConfig;
  const { results, badLines } = readResults(join(dir, "results.jsonl"));
  if (badLines.length > 0) io.err(`results.jsonl: skipped unreadable line(s) ${badLines.join(", ")}`);
  const rows = summarize(results);
  writeFileSync(join(dir, "summary.csv"), summaryCsv(rows));
  const out = await writeReport(dir, config, results, values.out ? resolve(io.cwd, values.out) : undefined);
  io.out(accuracyTable(rows));
  io.out(`${results.length} results; summary: ${join(dir, "summary.csv")}; report: ${out}`);
  return 0;
}
