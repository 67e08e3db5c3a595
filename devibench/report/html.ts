/**
 * Renders a finished DeViBench run as one self-contained HTML file: inline CSS, inline SVG charts,
 * example frames as data URLs, no scripts and nothing fetched, so it can be mailed or archived as
 * is. All text from the run (questions and answers come from a CSV and a model) is escaped.
 */
import type { Method, RunConfig, SampleResult } from "../types.ts";
import { ALL_FAMILIES, ALL_TASKS, byRung, familiesOf, methodsOf, networksOf, pct, points, summarize, type SummaryRow } from "./summary.ts";
import { escapeHtml as esc, lineChart, type ChartSeries } from "./svg.ts";

export interface ExampleSide {
  /** JPEG bytes as base64 (a "data:image/jpeg;base64," prefix is accepted too). */
  readonly jpegBase64: string;
  readonly answer: string | null;
  readonly correct: boolean;
}

export interface ReportExample {
  readonly sampleId: string;
  readonly question: string;
  readonly reference: string;
  readonly targetKbps: number;
  readonly baseline: ExampleSide;
  readonly context: ExampleSide;
}

export interface ReportInput {
  readonly config: RunConfig;
  readonly results: readonly SampleResult[];
  readonly examples: readonly ReportExample[];
  readonly title?: string;
  /** ISO time; passed in (not read from the clock) so the same run renders the same file. */
  readonly generatedAt: string;
}

export const METHOD_STYLE: Record<Method, { label: string; color: string; dashed: boolean }> = {
  baseline: { label: "Baseline (uniform)", color: "#5b6b82", dashed: true },
  context: { label: "Context-aware", color: "#d9480f", dashed: false },
};

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0;background:#fafafa}
main{max-width:1120px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:36px 0 10px;border-bottom:1px solid #e5e5e5;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.muted{color:#666}
table{border-collapse:collapse;font-size:13px;margin:6px 0 14px}th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:150px}
.card .big{font-size:24px;font-weight:700}.up{color:#1a7f37}.down{color:#c62828}
.grid{display:flex;flex-wrap:wrap;gap:12px}svg.chart{background:#fff;max-width:100%;height:auto}
.pair{display:flex;gap:14px;flex-wrap:wrap}.pair figure{margin:0;flex:1 1 320px}
.pair img{width:100%;border:1px solid #ccc;image-rendering:auto}
.ex{border:1px solid #e2e2e2;border-radius:8px;padding:12px 14px;margin:12px 0}
.right{color:#1a7f37;font-weight:600}.wrong{color:#c62828;font-weight:600}
code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}pre{background:#f6f6f6;padding:8px;overflow:auto;white-space:pre-wrap}
`;

export function renderReport(input: ReportInput): string {
  const rows = summarize(input.results);
  const title = input.title ?? `DeViBench report: ${input.config.dataset}`;
  const samples = new Set(input.results.map((r) => r.sampleId)).size;
  const body = [
    `<h1>${esc(title)}</h1>`,
    `<p class="muted">Generated ${esc(input.generatedAt)} · ${input.results.length} results on ${samples} samples · ` +
      `engine ${esc(input.config.engine)} · dataset ${esc(input.config.dataset)}</p>`,
    input.results.length === 0 ? "<p><strong>No results in this run.</strong></p>" : "",
    section("At a glance", headline(rows)),
    section("Accuracy versus bitrate", mainCharts(rows)),
    section("By task type", taskCharts(rows)),
    familiesOf(rows).length > 0 ? section("By question family", familyTables(rows)) : "",
    section("Table", tables(rows)),
    section("Errors", errorsSection(input.results)),
    section("Examples", examplesSection(input.examples)),
    section("Configuration", configSection(input.config)),
    `<p class="muted">Accuracy = correct / (results - errors). "Cannot answer" counts as wrong; errors (missing ` +
      `video, encoder or model failure) are counted but not scored. Scoring: ${esc(input.config.scoring)}.</p>`,
  ];
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${esc(title)}</title>\n` +
    `<style>${CSS}</style>\n</head>\n<body>\n<main>\n${body.filter((b) => b !== "").join("\n")}\n</main>\n</body>\n</html>\n`
  );
}

function section(heading: string, html: string): string {
  return `<section>\n<h2>${esc(heading)}</h2>\n${html}\n</section>`;
}

function label(method: Method): string {
  return METHOD_STYLE[method]?.label ?? method;
}

/** One card per rung: the context-aware gain over the baseline, or the lone method's accuracy. */
function headline(rows: readonly SummaryRow[]): string {
  const out: string[] = [];
  const networks = networksOf(rows);
  for (const network of networks) {
    const cards: string[] = [];
    for (const [kbps, m] of byRung(rows, network)) {
      const b = m.get("baseline")?.accuracy ?? null;
      const c = m.get("context")?.accuracy ?? null;
      if (b !== null && c !== null) {
        const cls = c > b ? "up" : c < b ? "down" : "";
        cards.push(
          `<div class="card"><div class="muted">${kbps} kbps</div><div class="big ${cls}">${points(c - b)} pts</div>` +
            `<div>${pct(b)} → ${pct(c)}</div></div>`,
        );
      } else {
        const [method, row] = [...m][0] ?? [];
        if (method === undefined || row === undefined) continue;
        cards.push(
          `<div class="card"><div class="muted">${kbps} kbps</div><div class="big">${pct(row.accuracy)}</div>` +
            `<div>${esc(label(method))} only</div></div>`,
        );
      }
    }
    if (networks.length > 1) out.push(`<h3>Network: ${esc(network)}</h3>`);
    const both = methodsOf(rows).length > 1;
    out.push(
      both
        ? `<p>Context-aware minus baseline accuracy, in percentage points, at each target bitrate.</p>`
        : `<p>Accuracy at each target bitrate (only one method in this run).</p>`,
      `<div class="cards">${cards.join("")}</div>`,
    );
  }
  return out.length > 0 ? out.join("\n") : "<p>No results.</p>";
}

function seriesFor(rows: readonly SummaryRow[], network: string, taskType: string, kbps: readonly number[]): ChartSeries[] {
  const rungs = byRung(rows, network, taskType);
  return methodsOf(rows).map((method) => ({
    name: label(method),
    color: METHOD_STYLE[method]?.color ?? "#333",
    dashed: METHOD_STYLE[method]?.dashed ?? false,
    values: kbps.map((k) => rungs.get(k)?.get(method)?.accuracy ?? null),
  }));
}

function mainCharts(rows: readonly SummaryRow[]): string {
  return networksOf(rows)
    .map((network) => {
      const kbps = [...byRung(rows, network).keys()];
      return lineChart({
        title: networksOf(rows).length > 1 ? `Accuracy vs target bitrate (network: ${network})` : "Accuracy vs target bitrate",
        xLabels: kbps.map(String),
        xTitle: "target bitrate (kbps)",
        series: seriesFor(rows, network, ALL_TASKS, kbps),
      });
    })
    .join("\n");
}

function taskCharts(rows: readonly SummaryRow[]): string {
  const out: string[] = [];
  for (const network of networksOf(rows)) {
    const kbps = [...byRung(rows, network).keys()];
    // Most frequent task types first; n is the samples per method and rung.
    const sizes = new Map<string, number>();
    for (const r of rows) {
      if (r.network === network && r.family === ALL_FAMILIES && r.taskType !== ALL_TASKS) sizes.set(r.taskType, Math.max(sizes.get(r.taskType) ?? 0, r.n));
    }
    const charts = [...sizes]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([taskType, n]) =>
        lineChart({ title: `${taskType} (n=${n})`, xLabels: kbps.map(String), series: seriesFor(rows, network, taskType, kbps), small: true }),
      );
    if (networksOf(rows).length > 1) out.push(`<h3>Network: ${esc(network)}</h3>`);
    out.push(`<div class="grid">${charts.join("\n")}</div>`);
  }
  return out.join("\n");
}

/**
 * Accuracy per phrasing family (synthetic set: how the question points at the text), per method
 * and rung: one table per network, a family per row.
 */
function familyTables(rows: readonly SummaryRow[]): string {
  const methods = methodsOf(rows);
  const out: string[] = [];
  for (const network of networksOf(rows)) {
    const kbps = [...byRung(rows, network).keys()];
    const head1 =
      `<tr><th class="l" rowspan="2">family</th><th class="l" rowspan="2">task type</th><th rowspan="2">n</th>` +
      methods.map((m) => `<th colspan="${kbps.length}">${esc(label(m))}</th>`).join("") +
      "</tr>";
    const head2 = `<tr>${methods.map(() => kbps.map((k) => `<th>${k} kbps</th>`).join("")).join("")}</tr>`;
    const body = familiesOf(rows).map((family) => {
      const rungs = byRung(rows, network, ALL_TASKS, family);
      const any = [...rungs.values()].flatMap((m) => [...m.values()]);
      if (any.length === 0) return "";
      const n = Math.max(...any.map((r) => r.n));
      const cells = methods.map((method) => kbps.map((k) => `<td>${pct(rungs.get(k)?.get(method)?.accuracy)}</td>`).join("")).join("");
      return `<tr><td class="l">${esc(family)}</td><td class="l">${esc(any[0]!.taskType)}</td><td>${n}</td>${cells}</tr>`;
    });
    if (networksOf(rows).length > 1) out.push(`<h3>Network: ${esc(network)}</h3>`);
    out.push(`<table>\n${head1}\n${head2}\n${body.filter(Boolean).join("\n")}\n</table>`);
  }
  return out.join("\n");
}

function tables(rows: readonly SummaryRow[]): string {
  const methods = methodsOf(rows);
  const withDiff = methods.includes("baseline") && methods.includes("context");
  const out: string[] = [];
  for (const network of networksOf(rows)) {
    // Over an emulated link each method also has its frame latency (capture until the frame, or
    // the next good one, reached the model).
    const lat = rows.some((r) => r.network === network && r.frameLatencyP50Ms !== null);
    const cols = lat ? 8 : 6;
    const head1 =
      `<tr><th rowspan="2">kbps</th>` +
      methods.map((m) => `<th colspan="${cols}">${esc(label(m))}</th>`).join("") +
      (withDiff ? `<th rowspan="2">diff (pts)</th>` : "") +
      "</tr>";
    const latHead = lat ? "<th>frame latency p50 ms</th><th>p95 ms</th>" : "";
    const head2 = `<tr>${methods.map(() => `<th>accuracy</th><th>n</th><th>answered</th><th>cannot answer</th><th>errors</th><th>mean kbps</th>${latHead}`).join("")}</tr>`;
    const body = [...byRung(rows, network)].map(([kbps, m]) => {
      const cells = methods.map((method) => {
        const r = m.get(method);
        if (r === undefined) return "<td>-</td>".repeat(cols);
        const kb = r.meanKbps === null ? "-" : r.meanKbps.toFixed(1);
        const latCells = lat ? `<td>${r.frameLatencyP50Ms ?? "-"}</td><td>${r.frameLatencyP95Ms ?? "-"}</td>` : "";
        return `<td>${pct(r.accuracy)}</td><td>${r.n}</td><td>${r.answered}</td><td>${r.cannotAnswer}</td><td>${r.errors}</td><td>${kb}</td>${latCells}`;
      });
      const b = m.get("baseline")?.accuracy ?? null;
      const c = m.get("context")?.accuracy ?? null;
      const diff = withDiff ? `<td>${b === null || c === null ? "-" : points(c - b)}</td>` : "";
      return `<tr><td>${kbps}</td>${cells.join("")}${diff}</tr>`;
    });
    if (networksOf(rows).length > 1) out.push(`<h3>Network: ${esc(network)}</h3>`);
    out.push(`<table>\n${head1}\n${head2}\n${body.join("\n")}\n</table>`);
  }
  return out.length > 0 ? out.join("\n") : "<p>No results.</p>";
}

function errorsSection(results: readonly SampleResult[]): string {
  const failed = results.filter((r) => r.status === "error");
  if (failed.length === 0) return "<p>No errors.</p>";
  const byCode = new Map<string, number>();
  for (const r of failed) {
    const code = r.error?.code ?? "UNKNOWN";
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }
  const counts = [...byCode]
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `<tr><td class="l"><code>${esc(code)}</code></td><td>${n}</td></tr>`);
  const first = failed
    .slice(0, 5)
    .map(
      (r) =>
        `<tr><td class="l">${esc(r.sampleId)}</td><td class="l">${esc(label(r.condition.method))}</td>` +
        `<td>${r.condition.targetKbps}</td><td class="l"><code>${esc(r.error?.code ?? "UNKNOWN")}</code></td>` +
        `<td class="l">${esc(r.error?.message ?? "(no message)")}</td></tr>`,
    );
  return (
    `<p>${failed.length} of ${results.length} results failed; they are counted here and left out of accuracy.</p>\n` +
    `<table><tr><th class="l">code</th><th>count</th></tr>\n${counts.join("\n")}\n</table>\n` +
    `<h3>First ${first.length}</h3>\n<table><tr><th class="l">sample</th><th class="l">method</th><th>kbps</th>` +
    `<th class="l">code</th><th class="l">message</th></tr>\n${first.join("\n")}\n</table>`
  );
}

/** A data URL for the image, or null when the text is not plain base64 (never put raw text in src). */
function jpegDataUrl(value: string): string | null {
  const b64 = value.replace(/^data:image\/jpeg;base64,/, "").replace(/\s+/g, "");
  return b64.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(b64) ? `data:image/jpeg;base64,${b64}` : null;
}

function side(method: Method, s: ExampleSide): string {
  const url = jpegDataUrl(s.jpegBase64);
  const img = url === null ? `<p class="muted">(no frame)</p>` : `<img alt="${esc(label(method))} frame" src="${url}">`;
  const mark = s.correct ? `<span class="right">✓ right</span>` : `<span class="wrong">✗ wrong</span>`;
  const answer = s.answer === null ? `<em class="muted">no answer</em>` : esc(s.answer);
  return `<figure>${img}<figcaption><strong>${esc(label(method))}</strong>: ${answer} ${mark}</figcaption></figure>`;
}

function examplesSection(examples: readonly ReportExample[]): string {
  if (examples.length === 0) return "<p>No example frames were saved for this run.</p>";
  return examples
    .map(
      (e) =>
        `<div class="ex"><p><strong>Q:</strong> ${esc(e.question)}<br><strong>Reference:</strong> ${esc(e.reference)}` +
        `<br><span class="muted">${esc(e.sampleId)} · ${e.targetKbps} kbps</span></p>\n` +
        `<div class="pair">${side("baseline", e.baseline)}${side("context", e.context)}</div></div>`,
    )
    .join("\n");
}

function configSection(c: RunConfig): string {
  const entries: [string, string][] = [
    ["dataset", `${c.dataset}${c.datasetPath === null ? "" : ` (${c.datasetPath})`}`],
    ["videos", c.videosDir ?? "-"],
    ["engine", c.engine],
    ["methods", c.methods.map(label).join(", ")],
    ["region source", c.regionSource],
    ["rungs", c.rungs.map((r) => `${r.targetKbps} kbps @ ${r.width}x${r.height}`).join(", ")],
    ["networks", c.networks.map((n) => `${n.name} (${n.kind})`).join(", ")],
    ["codec", c.codec],
    ["sampling", `${c.sampling.fps} fps, at most ${c.sampling.maxFrames} frames, longest side ${c.sampling.maxSide} px`],
    ["scoring", c.scoring],
    ["workers", String(c.workers)],
    ["seed", String(c.seed)],
    ["limit", c.limit === null ? "none" : String(c.limit)],
    ["output", c.outDir],
  ];
  return `<table>\n${entries.map(([k, v]) => `<tr><th class="l">${esc(k)}</th><td class="l">${esc(v)}</td></tr>`).join("\n")}\n</table>`;
}
