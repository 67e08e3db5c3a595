/**
 * Turns a run's results into numbers: one row per method x target bitrate x network x task type,
 * plus "(all)" rows that pool the task types (family "all"); then, for results that have a phrasing
 * family (the synthetic set), one row per method x bitrate x network x family. Accuracy = correct / (n - errors): an error (video
 * missing, encoder or model failure) says nothing about what the model saw, so it is counted but
 * not scored; "cannot answer" is a real answer from the model and counts as wrong.
 */
import { percentile } from "../../sfu/media/stats-window.ts";
import { csvRow } from "../datasets/csv.ts";
import { FAMILIES } from "../datasets/synthetic/questions.ts";
import type { Method, SampleResult } from "../types.ts";

/** The task-type value of rows that pool all task types. */
export const ALL_TASKS = "(all)";

/** The family value of every row that is not a per-family row. */
export const ALL_FAMILIES = "all";

export const METHOD_ORDER: readonly Method[] = ["baseline", "context"];

export interface SummaryRow {
  readonly method: Method;
  readonly targetKbps: number;
  readonly network: string;
  /** A DeViBench task type, or ALL_TASKS. */
  readonly taskType: string;
  /**
   * ALL_FAMILIES for the task-type rows; else a phrasing family, the row pooling that family's
   * results (its task type is the family's, or ALL_TASKS should a family span several).
   */
  readonly family: string;
  /** All results in the group, errors included. */
  readonly n: number;
  readonly correct: number;
  /** correct / (n - errors); null when every result was an error. */
  readonly accuracy: number | null;
  readonly answered: number;
  readonly cannotAnswer: number;
  readonly errors: number;
  /** Mean achieved bitrate over the results that have one; null when none has. */
  readonly meanKbps: number | null;
  /**
   * Frame latency over an emulated link (network axis): nearest-rank p50/p95 of the per-frame
   * latencies of the group's clips (each clip counted once, however many questions it has); null
   * without a link.
   */
  readonly frameLatencyP50Ms: number | null;
  readonly frameLatencyP95Ms: number | null;
}

interface Tally {
  method: Method;
  targetKbps: number;
  network: string;
  taskType: string;
  family: string;
  n: number;
  correct: number;
  answered: number;
  cannotAnswer: number;
  errors: number;
  kbpsSum: number;
  kbpsCount: number;
  /** Per-clip latency lists, keyed by their content so each clip counts once. */
  latencies: Map<string, readonly number[]>;
}

/**
 * Per-group counts. Rows come sorted by network, bitrate, method, then task type ("(all)" first);
 * the per-family rows follow all of those, in the same order by family, so a reader of today's
 * rows finds them where they were.
 */
export function summarize(results: readonly SampleResult[]): SummaryRow[] {
  const groups = new Map<string, Tally>();
  const add = (r: SampleResult, taskType: string, family: string) => {
    const c = r.condition;
    const key = JSON.stringify([c.method, c.targetKbps, c.network.name, family === ALL_FAMILIES ? taskType : "", family]);
    let t = groups.get(key);
    if (t === undefined) {
      t = {
        method: c.method, targetKbps: c.targetKbps, network: c.network.name, taskType, family,
        n: 0, correct: 0, answered: 0, cannotAnswer: 0, errors: 0, kbpsSum: 0, kbpsCount: 0, latencies: new Map(),
      };
      groups.set(key, t);
    }
    if (t.taskType !== taskType) t.taskType = ALL_TASKS;
    t.n++;
    if (r.status === "error") t.errors++;
    else if (r.status === "cannot-answer") t.cannotAnswer++;
    else {
      t.answered++;
      if (r.correct) t.correct++;
    }
    if (r.frameLatencyMs && r.frameLatencyMs.length > 0) t.latencies.set(JSON.stringify(r.frameLatencyMs), r.frameLatencyMs);
    if (r.achievedKbps !== null && Number.isFinite(r.achievedKbps)) {
      t.kbpsSum += r.achievedKbps;
      t.kbpsCount++;
    }
  };
  for (const r of results) {
    add(r, ALL_TASKS, ALL_FAMILIES);
    add(r, r.taskType, ALL_FAMILIES);
    if (r.family !== undefined) add(r, r.taskType, r.family);
  }
  const rows: SummaryRow[] = [...groups.values()].map((t) => {
    const scored = t.n - t.errors;
    return {
      method: t.method,
      targetKbps: t.targetKbps,
      network: t.network,
      taskType: t.taskType,
      family: t.family,
      n: t.n,
      correct: t.correct,
      accuracy: scored > 0 ? t.correct / scored : null,
      answered: t.answered,
      cannotAnswer: t.cannotAnswer,
      errors: t.errors,
      meanKbps: t.kbpsCount > 0 ? t.kbpsSum / t.kbpsCount : null,
      ...latencyPercentiles([...t.latencies.values()].flat()),
    };
  });
  return rows.sort(compareRows);
}

function latencyPercentiles(values: number[]): { frameLatencyP50Ms: number | null; frameLatencyP95Ms: number | null } {
  const r = (v: number | undefined) => (v === undefined ? null : Math.round(v));
  return { frameLatencyP50Ms: r(percentile(values, 50)), frameLatencyP95Ms: r(percentile(values, 95)) };
}

function familyRank(f: string): number {
  if (f === ALL_FAMILIES) return -1;
  const k = (FAMILIES as readonly string[]).indexOf(f);
  return k < 0 ? FAMILIES.length : k;
}

function compareRows(a: SummaryRow, b: SummaryRow): number {
  const pooled = (r: SummaryRow) => (r.family === ALL_FAMILIES ? 0 : 1);
  return (
    pooled(a) - pooled(b) ||
    a.network.localeCompare(b.network) ||
    a.targetKbps - b.targetKbps ||
    methodRank(a.method) - methodRank(b.method) ||
    (a.family === ALL_FAMILIES
      ? (a.taskType === ALL_TASKS ? -1 : 0) - (b.taskType === ALL_TASKS ? -1 : 0) || a.taskType.localeCompare(b.taskType)
      : familyRank(a.family) - familyRank(b.family) || a.family.localeCompare(b.family))
  );
}

function methodRank(m: Method): number {
  const k = METHOD_ORDER.indexOf(m);
  return k < 0 ? METHOD_ORDER.length : k;
}

/** The rows as CSV (header + one line per row, CRLF line ends as RFC 4180 asks). */
export function summaryCsv(rows: readonly SummaryRow[]): string {
  const header = [
    "method",
    "target_kbps",
    "network",
    "task_type",
    "n",
    "correct",
    "accuracy",
    "answered",
    "cannot_answer",
    "errors",
    "mean_kbps",
    "frame_latency_p50_ms",
    "frame_latency_p95_ms",
    "family",
  ];
  const lines = rows.map((r) =>
    csvRow([
      r.method,
      r.targetKbps,
      r.network,
      r.taskType,
      r.n,
      r.correct,
      r.accuracy === null ? "" : r.accuracy.toFixed(4),
      r.answered,
      r.cannotAnswer,
      r.errors,
      r.meanKbps === null ? "" : r.meanKbps.toFixed(1),
      r.frameLatencyP50Ms ?? "",
      r.frameLatencyP95Ms ?? "",
      r.family,
    ]),
  );
  return [csvRow(header), ...lines].join("\r\n") + "\r\n";
}

/** Percent with one decimal, "-" for no data. */
export function pct(accuracy: number | null | undefined): string {
  return accuracy === null || accuracy === undefined ? "-" : `${(accuracy * 100).toFixed(1)}%`;
}

/** Difference in percentage points, signed: "+12.5", "-3.0". */
export function points(diff: number): string {
  const p = diff * 100;
  return `${p >= 0 ? "+" : "-"}${Math.abs(p).toFixed(1)}`;
}

/** The "(all)" rows of one network (or one task type's, or one family's), indexed by bitrate then method. */
export function byRung(rows: readonly SummaryRow[], network: string, taskType = ALL_TASKS, family = ALL_FAMILIES): Map<number, Map<Method, SummaryRow>> {
  const out = new Map<number, Map<Method, SummaryRow>>();
  for (const r of rows) {
    if (r.network !== network || r.family !== family || (family === ALL_FAMILIES && r.taskType !== taskType)) continue;
    let m = out.get(r.targetKbps);
    if (m === undefined) out.set(r.targetKbps, (m = new Map()));
    m.set(r.method, r);
  }
  return new Map([...out].sort((a, b) => a[0] - b[0]));
}

/** The phrasing families in the rows, in FAMILIES order (unknown ones last). */
export function familiesOf(rows: readonly SummaryRow[]): string[] {
  return [...new Set(rows.map((r) => r.family).filter((f) => f !== ALL_FAMILIES))].sort((a, b) => familyRank(a) - familyRank(b) || a.localeCompare(b));
}

export function networksOf(rows: readonly SummaryRow[]): string[] {
  return [...new Set(rows.map((r) => r.network))];
}

export function methodsOf(rows: readonly SummaryRow[]): Method[] {
  return [...new Set(rows.map((r) => r.method))].sort((a, b) => methodRank(a) - methodRank(b));
}

type ByKbps = Record<string, number | null>;

/**
 * The accuracies `devibench run --json` prints: `accuracy` (method -> kbps), `accuracyByTask` and
 * `accuracyByFamily` (task type or family -> method -> kbps), all for the first network; and
 * `accuracyByNetwork` (network -> method -> kbps) for every network.
 */
export function accuracyBreakdown(rows: readonly SummaryRow[], firstNetwork: string | undefined): {
  accuracy: Record<string, ByKbps>;
  accuracyByTask: Record<string, Record<string, ByKbps>>;
  accuracyByFamily: Record<string, Record<string, ByKbps>>;
  accuracyByNetwork: Record<string, Record<string, ByKbps>>;
} {
  const accuracy: Record<string, ByKbps> = {};
  const byTask: Record<string, Record<string, ByKbps>> = {};
  const byFamily: Record<string, Record<string, ByKbps>> = {};
  const byNetwork: Record<string, Record<string, ByKbps>> = {};
  for (const r of rows) {
    const kbps = String(r.targetKbps);
    if (r.taskType === ALL_TASKS && r.family === ALL_FAMILIES) ((byNetwork[r.network] ??= {})[r.method] ??= {})[kbps] = r.accuracy;
    if (r.network !== firstNetwork) continue;
    if (r.family !== ALL_FAMILIES) ((byFamily[r.family] ??= {})[r.method] ??= {})[kbps] = r.accuracy;
    else if (r.taskType === ALL_TASKS) (accuracy[r.method] ??= {})[kbps] = r.accuracy;
    else ((byTask[r.taskType] ??= {})[r.method] ??= {})[kbps] = r.accuracy;
  }
  return { accuracy, accuracyByTask: byTask, accuracyByFamily: byFamily, accuracyByNetwork: byNetwork };
}

/**
 * A plain-text table for the terminal: one block per network, bitrate rungs as rows, each method's
 * accuracy as a column, then the context-minus-baseline difference in points and the scored n.
 */
export function accuracyTable(rows: readonly SummaryRow[]): string {
  const methods = methodsOf(rows);
  const withDiff = methods.includes("baseline") && methods.includes("context");
  const out: string[] = [];
  for (const network of networksOf(rows)) {
    const header = ["kbps", ...methods, ...(withDiff ? ["diff (pts)"] : []), "n scored", "errors"];
    const body: string[][] = [];
    for (const [kbps, m] of byRung(rows, network)) {
      const cells = methods.map((method) => pct(m.get(method)?.accuracy));
      const b = m.get("baseline")?.accuracy;
      const c = m.get("context")?.accuracy;
      const diff = b === null || b === undefined || c === null || c === undefined ? "-" : points(c - b);
      const scored = [...m.values()].map((r) => r.n - r.errors);
      const errors = [...m.values()].reduce((sum, r) => sum + r.errors, 0);
      body.push([String(kbps), ...cells, ...(withDiff ? [diff] : []), String(Math.max(...scored)), String(errors)]);
    }
    const widths = header.map((h, k) => Math.max(h.length, ...body.map((row) => row[k]?.length ?? 0)));
    const format = (cells: string[]) => cells.map((cell, k) => cell.padStart(widths[k] ?? 0)).join("  ");
    if (out.length > 0) out.push("");
    out.push(`network: ${network}`, format(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(format));
    for (const [kbps, m] of byRung(rows, network)) {
      for (const r of m.values()) {
        if (r.frameLatencyP50Ms !== null) out.push(`frame latency at ${kbps} kbps (${r.method}): p50 ${r.frameLatencyP50Ms} ms, p95 ${r.frameLatencyP95Ms} ms`);
      }
    }
  }
  return out.join("\n") + "\n";
}
