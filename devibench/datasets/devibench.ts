/**
 * Loads DeViBench's CSV files (v2: open questions; v1: multiple choice) into `Sample`s.
 *
 * Each row is checked with zod. A bad row becomes a `RowProblem` naming its line and field and is
 * left out; loading goes on, so one typo costs one sample, not the run. Unknown task types and
 * ambiguous answers are warnings: the sample is kept. Videos are looked up in a one-off index of
 * `videosDir` (see videos.ts); a sample without a video keeps `videoPath: null` and is counted.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { DatasetName, Sample } from "../types.ts";
import { parseCsv } from "./csv.ts";
import { DatasetError } from "./errors.ts";
import { buildVideoIndex, canonicalSampleId, findVideo } from "./videos.ts";

export type DevibenchVersion = "v2" | "v1";

/** DeViBench questions are about the 5 seconds from start_time on. */
export const SEGMENT_SECONDS = 5;

export const KNOWN_TASK_TYPES: readonly string[] = [
  "Text-Rich Understanding",
  "Attribute Perception",
  "Object Perception",
  "Counting",
  "Action Perception",
  "Spatial Understanding",
];

export interface RowProblem {
  /** 1-based line of the CSV where the row starts. */
  readonly line: number;
  /** The CSV column at fault, or "(row)" when the row as a whole is wrong. */
  readonly field: string;
  readonly message: string;
  /** "error": the row was left out. "warning": the row was loaded anyway. */
  readonly level: "error" | "warning";
}

export interface LoadOptions {
  readonly version: DevibenchVersion;
  readonly videosDir?: string;
  /** Stop after this many samples have loaded (for quick runs). */
  readonly limit?: number;
}

export interface LoadStats {
  /** Data rows read (all of them, or up to where `limit` stopped the load). */
  readonly rows: number;
  readonly loaded: number;
  /** Rows left out because of an error. */
  readonly rejected: number;
  readonly warnings: number;
  readonly taskTypes: Record<string, number>;
  /** Distinct source videos the loaded samples refer to. */
  readonly distinctVideos: number;
  /** `sample_<id>/` folders holding several .mp4 files and no video.mp4 (not used). */
  readonly ambiguousVideoFolders: readonly string[];
}

export interface LoadResult {
  readonly samples: Sample[];
  readonly problems: RowProblem[];
  /** Loaded samples whose video was not found (always 0 when no `videosDir` was given). */
  readonly missingVideos: number;
  readonly stats: LoadStats;
}

const COLUMNS: Record<DevibenchVersion, readonly string[]> = {
  v2: ["sample_id", "start_time", "question", "std_answer", "task_type"],
  v1: ["sample_folder", "start_time", "question", "options", "standard_answer", "task_type"],
};

// Field checks; messages read after the field name: "start_time must be >= 0 (got "-5")".
const text = z.string().trim().min(1, "is empty");
const seconds = z
  .string()
  .trim()
  .refine((s) => /^[-+]?(\d+\.?\d*|\.\d+)$/.test(s), "is not a number of seconds")
  .transform(Number)
  .refine((n) => n >= 0, "must be >= 0");
const sampleId = z
  .string()
  .trim()
  .refine((s) => /^\d+(\.0*)?$/.test(s), "is not a whole number")
  .transform((s) => String(Number(s)));
const sampleFolder = z
  .string()
  .trim()
  .refine((s) => canonicalSampleId(s) !== null, 'is not "sample_<number>"')
  .transform((s) => canonicalSampleId(s) ?? s);

const v2Row = z.object({ sample_id: sampleId, start_time: seconds, question: text, std_answer: text, task_type: text });
const v1Row = z.object({
  sample_folder: sampleFolder,
  start_time: seconds,
  question: text,
  options: text,
  standard_answer: text,
  task_type: text,
});

/** One row's pieces before it becomes a Sample. */
interface RowParts {
  id: string;
  start: number;
  question: string;
  taskType: string;
  answer: string;
  answerLetter?: string;
  options?: string[];
}

export function loadDevibench(path: string, options: LoadOptions): LoadResult {
  const { version } = options;
  if (version !== "v1" && version !== "v2") {
    throw new DatasetError("INVALID_OPTION", `version must be "v1" or "v2", got ${JSON.stringify(version)}`);
  }
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit >= 0)) {
    throw new DatasetError("INVALID_OPTION", `limit must be a whole number >= 0, got ${options.limit}`);
  }
  let content: string;
  try {
    content = readFileSync(path, "utf8");
  } catch (cause) {
    throw new DatasetError("DATASET_NOT_FOUND", `cannot read ${path}; pass the DeViBench ${version} CSV`, { cause });
  }
  const index = options.videosDir === undefined ? null : buildVideoIndex(options.videosDir);
  const { records, errors } = parseCsv(content);
  const header = records[0];
  if (header === undefined) throw new DatasetError("DATASET_HEADER", `${path} has no header line`);
  const names = header.fields.map((f) => f.trim());
  const missing = COLUMNS[version].filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new DatasetError(
      "DATASET_HEADER",
      `${path} has no column ${missing.join(", ")} (header: ${names.join(", ")}); is it the ${version} file?`,
      { line: header.line },
    );
  }

  // Rows that parsed and rows the CSV reader rejected, in file order, so `limit` and the row
  // numbers in sample ids both follow the file.
  const rowsInOrder = [
    ...records.slice(1).map((record) => ({ line: record.line, record, csvError: undefined })),
    ...errors.map((csvError) => ({ line: csvError.line ?? 0, record: undefined, csvError })),
  ].sort((a, b) => a.line - b.line);

  const dataset: DatasetName = version === "v2" ? "devibench-v2" : "devibench-v1";
  const samples: Sample[] = [];
  const problems: RowProblem[] = [];
  const limit = options.limit ?? Infinity;
  let rows = 0;
  let rejected = 0;
  let missingVideos = 0;
  for (const { line, record, csvError } of rowsInOrder) {
    if (samples.length >= limit) break;
    rows++;
    if (record === undefined) {
      problems.push({ line, field: "(row)", message: csvError?.message ?? "unreadable row", level: "error" });
      rejected++;
      continue;
    }
    const parts = parseRow(version, names, record.fields, line, problems);
    if (parts === null) {
      rejected++;
      continue;
    }
    const videoPath = index === null ? null : findVideo(index, parts.id);
    if (index !== null && videoPath === null) missingVideos++;
    samples.push({
      // The row number keeps duplicate (sample, start) pairs distinct; DeViBench has several.
      id: `${parts.id}@${parts.start}#${rows}`,
      dataset,
      videoPath,
      startSec: parts.start,
      durationSec: SEGMENT_SECONDS,
      question: parts.question,
      answer: parts.answer,
      ...(parts.answerLetter === undefined ? {} : { answerLetter: parts.answerLetter }),
      ...(parts.options === undefined ? {} : { options: parts.options }),
      taskType: parts.taskType,
      line,
    });
  }

  return {
    samples,
    problems,
    missingVideos,
    stats: {
      rows,
      loaded: samples.length,
      rejected,
      warnings: problems.filter((p) => p.level === "warning").length,
      taskTypes: taskTypeCounts(samples),
      distinctVideos: new Set(samples.map((s) => s.id.slice(0, s.id.indexOf("@")))).size,
      ambiguousVideoFolders: index?.ambiguous ?? [],
    },
  };
}

/** Samples per task type, most frequent first. */
export function taskTypeCounts(samples: readonly Sample[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(s.taskType, (counts.get(s.taskType) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

function parseRow(
  version: DevibenchVersion,
  names: readonly string[],
  fields: readonly string[],
  line: number,
  problems: RowProblem[],
): RowParts | null {
  const extra = fields.slice(names.length).filter((f) => f.trim() !== "");
  if (fields.length < names.length || extra.length > 0) {
    problems.push({
      line,
      field: "(row)",
      message: `has ${fields.length} fields, the header has ${names.length}`,
      level: "error",
    });
    return null;
  }
  const raw: Record<string, string> = {};
  names.forEach((n, k) => (raw[n] = fields[k] ?? ""));

  if (version === "v2") {
    const row = check(v2Row, raw, line, problems);
    if (row === null) return null;
    warnOnUnknownTask(row.task_type, line, problems);
    const { sample_id: id, start_time: start, question, std_answer: answer, task_type: taskType } = row;
    return { id, start, question, answer, taskType };
  }

  const row = check(v1Row, raw, line, problems);
  if (row === null) return null;
  warnOnUnknownTask(row.task_type, line, problems);
  const options = splitOptions(row.options);
  if (options.length < 2) {
    problems.push({
      line,
      field: "options",
      message: `options should list at least two choices as "A) ... B) ...", found ${options.length}`,
      level: "error",
    });
    return null;
  }
  const answer = resolveAnswer(row.standard_answer, options, line, problems);
  if (answer === null) return null;
  return {
    id: row.sample_folder,
    start: row.start_time,
    question: row.question,
    taskType: row.task_type,
    answer: answer.text,
    answerLetter: answer.letter,
    options: options.map((o) => `${o.letter}) ${o.text}`),
  };
}

/** Runs a row schema; each failed field becomes a RowProblem quoting what the file holds. */
function check<T>(schema: z.ZodType<T>, raw: Record<string, string>, line: number, problems: RowProblem[]): T | null {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? "(row)");
    const got = raw[field] ?? "";
    problems.push({ line, field, message: `${field} ${issue.message} (got ${JSON.stringify(got)})`, level: "error" });
  }
  return null;
}

function warnOnUnknownTask(taskType: string, line: number, problems: RowProblem[]): void {
  if (KNOWN_TASK_TYPES.includes(taskType)) return;
  problems.push({
    line,
    field: "task_type",
    message: `task_type ${JSON.stringify(taskType)} is not one of DeViBench's (${KNOWN_TASK_TYPES.join(", ")}); kept as is`,
    level: "warning",
  });
}

interface Choice {
  letter: string;
  text: string;
}

/**
 * Splits "A) x B) y ..." (on one line or several, with or without a space after the parenthesis)
 * into choices. Only the next expected letter starts a new choice, so a letter out of sequence
 * (a second "B)" inside choice B, or a "C)" inside choice D) stays part of the text.
 */
export function splitOptions(field: string): Choice[] {
  const s = field.trim();
  const marker = /(^|\s)([A-Z])\)/g;
  const starts: { letter: string; at: number; textAt: number }[] = [];
  let expected = "A";
  for (let m = marker.exec(s); m !== null; m = marker.exec(s)) {
    const letter = m[2] ?? "";
    if (letter !== expected) continue;
    const at = m.index + (m[1]?.length ?? 0);
    starts.push({ letter, at, textAt: at + 2 });
    expected = String.fromCharCode(expected.charCodeAt(0) + 1);
  }
  if (starts[0]?.at !== 0) return [];
  return starts.map((st, k) => ({
    letter: st.letter,
    text: s.slice(st.textAt, starts[k + 1]?.at ?? s.length).replace(/\s+/g, " ").trim(),
  }));
}

/** Accepts "B", "B)", "B) text" or the option's text itself; returns the letter and the option text. */
function resolveAnswer(
  raw: string,
  options: readonly Choice[],
  line: number,
  problems: RowProblem[],
): { letter: string; text: string } | null {
  const value = raw.trim();
  const m = /^([A-Z])(?:\)\s*(.*))?$/s.exec(value);
  const byLetter = m?.[1] === undefined ? undefined : options.find((o) => o.letter === m[1]);
  const byText = options.find((o) => o.text.toLowerCase() === value.toLowerCase());
  const choice = byLetter ?? byText;
  if (choice === undefined) {
    const letters = options.map((o) => o.letter).join(", ");
    problems.push({
      line,
      field: "standard_answer",
      message: `standard_answer ${JSON.stringify(value)} is not one of the option letters (${letters})`,
      level: "error",
    });
    return null;
  }
  const given = m?.[2]?.replace(/\s+/g, " ").trim();
  if (byLetter !== undefined && given && given.toLowerCase() !== choice.text.toLowerCase()) {
    problems.push({
      line,
      field: "standard_answer",
      message: `standard_answer says ${JSON.stringify(given)} but option ${choice.letter} reads ${JSON.stringify(choice.text)}; using the option`,
      level: "warning",
    });
  }
  return { letter: choice.letter, text: choice.text };
}
