import { describe, expect, it } from "vitest";
import { parseCsvStrict } from "../datasets/csv.ts";
import type { Method, ResultStatus, RunConfig, SampleResult } from "../types.ts";
import { renderReport, type ReportExample } from "./html.ts";
import { ALL_FAMILIES, ALL_TASKS, accuracyBreakdown, accuracyTable, summarize, summaryCsv } from "./summary.ts";
import { escapeHtml } from "./svg.ts";

const config: RunConfig = {
  dataset: "devibench-v2",
  datasetPath: "devibench/data/devibench-v2.csv",
  videosDir: "/videos",
  engine: "fake",
  methods: ["baseline", "context"],
  regionSource: "ground-truth",
  rungs: [
    { targetKbps: 100, width: 640, height: 360 },
    { targetKbps: 300, width: 960, height: 540 },
  ],
  networks: [{ name: "none", kind: "none" }],
  codec: "h264",
  sampling: { fps: 1, maxFrames: 5, maxSide: 768 },
  scoring: "normalized-match",
  workers: 2,
  seed: 1,
  limit: null,
  outDir: "runs/test",
};

let counter = 0;
function result(
  method: Method,
  targetKbps: number,
  status: ResultStatus,
  correct: boolean,
  taskType = "Counting",
  achievedKbps: number | null = targetKbps,
  question = "How many?",
): SampleResult {
  counter++;
  return {
    sampleId: `s${counter}`,
    dataset: "devibench-v2",
    taskType,
    question,
    reference: "4",
    condition: { method, targetKbps, width: 640, height: 360, network: { name: "none", kind: "none" } },
    status,
    answer: status === "answered" ? (correct ? "4" : "5") : null,
    correct: status === "answered" && correct,
    scoring: status === "error" ? "none" : "normalized-match",
    achievedKbps,
    frames: 5,
    encodeMs: 10,
    answerMs: 20,
    ...(status === "error" ? { error: { code: "VIDEO_MISSING", message: `video of s${counter} <missing>` } } : {}),
    finishedAt: "2025-01-01T00:00:00.000Z",
  };
}

// At 100 kbps: baseline 2 right, 1 cannot-answer, 1 error -> 2/3; context 3 right, 1 wrong -> 3/4.
// At 300 kbps: baseline 1 right, 1 wrong -> 1/2; context 2 right -> 2/2.
const results: SampleResult[] = [
  result("baseline", 100, "answered", true, "Counting", 90),
  result("baseline", 100, "answered", true, "Text-Rich Understanding", 110),
  result("baseline", 100, "cannot-answer", false, "Text-Rich Understanding", 100),
  result("baseline", 100, "error", false, "Text-Rich Understanding", null),
  result("context", 100, "answered", true, "Counting", 95),
  result("context", 100, "answered", true, "Text-Rich Understanding", 105),
  result("context", 100, "answered", true, "Text-Rich Understanding", 100),
  result("context", 100, "answered", false, "Text-Rich Understanding", 100),
  result("baseline", 300, "answered", true, "Counting", 280),
  result("baseline", 300, "answered", false, "Counting", 320),
  result("context", 300, "answered", true, "Counting", 290),
  result("context", 300, "answered", true, "Counting", 310),
];

describe("summarize", () => {
  const rows = summarize(results);
  const find = (method: Method, kbps: number, taskType = ALL_TASKS) =>
    rows.find((r) => r.method === method && r.targetKbps === kbps && r.taskType === taskType);

  it("counts errors but leaves them out of accuracy, and counts cannot-answer as wrong", () => {
    expect(find("baseline", 100)).toEqual({
      method: "baseline",
      targetKbps: 100,
      network: "none",
      taskType: ALL_TASKS,
      family: ALL_FAMILIES,
      n: 4,
      correct: 2,
      accuracy: 2 / 3,
      answered: 2,
      cannotAnswer: 1,
      errors: 1,
      meanKbps: 100, // (90 + 110 + 100) / 3: the error has no bitrate
      frameLatencyP50Ms: null, // no emulated link
      frameLatencyP95Ms: null,
    });
    expect(find("context", 100)).toMatchObject({ n: 4, correct: 3, accuracy: 0.75, errors: 0, meanKbps: 100 });
    expect(find("baseline", 300)).toMatchObject({ n: 2, correct: 1, accuracy: 0.5, meanKbps: 300 });
    expect(find("context", 300)).toMatchObject({ n: 2, correct: 2, accuracy: 1 });
  });

  it("splits by task type, and sorts by bitrate, method, then task type", () => {
    expect(find("baseline", 100, "Text-Rich Understanding")).toMatchObject({ n: 3, correct: 1, accuracy: 0.5, errors: 1 });
    expect(find("context", 100, "Counting")).toMatchObject({ n: 1, correct: 1, accuracy: 1 });
    expect(rows.map((r) => `${r.targetKbps} ${r.method} ${r.taskType}`)).toEqual([
      "100 baseline (all)",
      "100 baseline Counting",
      "100 baseline Text-Rich Understanding",
      "100 context (all)",
      "100 context Counting",
      "100 context Text-Rich Understanding",
      "300 baseline (all)",
      "300 baseline Counting",
      "300 context (all)",
      "300 context Counting",
    ]);
  });

  it("pools frame latencies over an emulated link, each clip's list once however many questions share it", () => {
    const link = { name: "loss5-rtt100/classic", kind: "link" as const, spec: "loss=0.05,rtt=100", policy: "classic" as const };
    const clipA = [100, 100, 100, 400];
    const clipB = [100, 200];
    const withLink = (r: SampleResult, lat: number[]): SampleResult => ({ ...r, condition: { ...r.condition, network: link }, frameLatencyMs: lat });
    const rs = [
      withLink(result("baseline", 100, "answered", true), clipA),
      withLink(result("baseline", 100, "answered", false), clipA),
      withLink(result("baseline", 100, "answered", true), clipB),
    ];
    const [row] = summarize(rs).filter((r) => r.taskType === ALL_TASKS);
    // Pooled: 100 100 100 400 100 200 -> p50 100, p95 400 (nearest rank).
    expect(row).toMatchObject({ network: "loss5-rtt100/classic", frameLatencyP50Ms: 100, frameLatencyP95Ms: 400 });
    expect(accuracyTable(summarize(rs))).toContain("frame latency at 100 kbps (baseline): p50 100 ms, p95 400 ms");
    const html = renderReport({ config, results: rs, examples: [], generatedAt: "t" });
    expect(html).toContain("<th>frame latency p50 ms</th><th>p95 ms</th>");
    expect(html).toMatch(/<td>100<\/td><td>400<\/td><\/tr>/);
  });

  it("gives null accuracy when every result in a group failed", () => {
    const [row] = summarize([result("context", 50, "error", false)]).filter((r) => r.taskType === ALL_TASKS);
    expect(row).toMatchObject({ n: 1, errors: 1, accuracy: null, meanKbps: 50 });
  });

  it("writes CSV that parses back", () => {
    const csv = summaryCsv(rows);
    const records = parseCsvStrict(csv).map((r) => r.fields);
    expect(records[0]).toEqual([
      "method", "target_kbps", "network", "task_type", "n", "correct", "accuracy", "answered", "cannot_answer", "errors", "mean_kbps",
      "frame_latency_p50_ms", "frame_latency_p95_ms", "family",
    ]);
    expect(records[1]).toEqual(["baseline", "100", "none", "(all)", "4", "2", "0.6667", "2", "1", "1", "100.0", "", "", "all"]);
    expect(records).toHaveLength(rows.length + 1);
  });

  it("prints a terminal table with the difference column", () => {
    const table = accuracyTable(rows);
    const lines = table.trimEnd().split("\n");
    expect(lines[0]).toBe("network: none");
    expect(lines[1]?.split(/\s{2,}/).map((s) => s.trim()).filter(Boolean)).toEqual([
      "kbps", "baseline", "context", "diff (pts)", "n scored", "errors",
    ]);
    expect(lines[3]?.trim().split(/\s+/)).toEqual(["100", "66.7%", "75.0%", "+8.3", "4", "1"]);
    expect(lines[4]?.trim().split(/\s+/)).toEqual(["300", "50.0%", "100.0%", "+50.0", "2", "0"]);
  });
});

describe("summarize with phrasing families (synthetic set)", () => {
  const fam = (r: SampleResult, family: string): SampleResult => ({ ...r, family });
  // 100 kbps baseline: colour 1 of 2, colour-of 0 of 1; context: colour 2 of 2, colour-of 1 of 1.
  const rs = [
    fam(result("baseline", 100, "answered", true, "Text-Rich Understanding"), "colour"),
    fam(result("baseline", 100, "answered", false, "Text-Rich Understanding"), "colour"),
    fam(result("baseline", 100, "answered", false, "Attribute Perception"), "colour-of"),
    fam(result("context", 100, "answered", true, "Text-Rich Understanding"), "colour"),
    fam(result("context", 100, "answered", true, "Text-Rich Understanding"), "colour"),
    fam(result("context", 100, "answered", true, "Attribute Perception"), "colour-of"),
  ];
  const rows = summarize(rs);

  it("adds one row per method, bitrate and family after today's rows, which keep family \"all\"", () => {
    const today = rows.filter((r) => r.family === ALL_FAMILIES);
    expect(today.map((r) => `${r.method} ${r.taskType}`)).toEqual([
      "baseline (all)", "baseline Attribute Perception", "baseline Text-Rich Understanding",
      "context (all)", "context Attribute Perception", "context Text-Rich Understanding",
    ]);
    expect(rows.slice(0, today.length)).toEqual(today);
    const perFamily = rows.slice(today.length);
    expect(perFamily.map((r) => `${r.method} ${r.family} ${r.taskType} ${r.correct}/${r.n}`)).toEqual([
      "baseline colour Text-Rich Understanding 1/2",
      "baseline colour-of Attribute Perception 0/1",
      "context colour Text-Rich Understanding 2/2",
      "context colour-of Attribute Perception 1/1",
    ]);
  });

  it("writes the per-family rows to summary.csv with their family, and the table and headline ignore them", () => {
    const records = parseCsvStrict(summaryCsv(rows)).map((r) => r.fields);
    const familyCol = records[0]!.indexOf("family");
    expect(records.slice(1).map((r) => r[familyCol])).toEqual(["all", "all", "all", "all", "all", "all", "colour", "colour-of", "colour", "colour-of"]);
    expect(accuracyTable(rows).split("\n")[3]?.trim().split(/\s+/)).toEqual(["100", "33.3%", "100.0%", "+66.7", "3", "0"]);
  });

  it("gives devibench run --json accuracyByFamily beside today's keys", () => {
    const b = accuracyBreakdown(rows, "none");
    expect(b.accuracyByFamily).toEqual({ colour: { baseline: { "100": 0.5 }, context: { "100": 1 } }, "colour-of": { baseline: { "100": 0 }, context: { "100": 1 } } });
    expect(b.accuracy).toEqual({ baseline: { "100": 1 / 3 }, context: { "100": 1 } });
    expect(b.accuracyByTask["Attribute Perception"]).toEqual({ baseline: { "100": 0 }, context: { "100": 1 } });
    expect(b.accuracyByNetwork).toEqual({ none: b.accuracy });
  });

  it("gives report.html an accuracy table per family, method and rung; none for rows without a family", () => {
    const html = renderReport({ config, results: rs, examples: [], generatedAt: "t" });
    expect(html).toContain("By question family");
    expect(html).toMatch(/<td class="l">colour<\/td><td class="l">Text-Rich Understanding<\/td><td>2<\/td><td>50.0%<\/td><td>100.0%<\/td><\/tr>/);
    expect(html).toMatch(/<td class="l">colour-of<\/td><td class="l">Attribute Perception<\/td><td>1<\/td><td>0.0%<\/td><td>100.0%<\/td><\/tr>/);
    expect(renderReport({ config, results, examples: [], generatedAt: "t" })).not.toContain("By question family");
  });
});

describe("renderReport", () => {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]).toString("base64");
  const examples: ReportExample[] = [
    {
      sampleId: "4@100#2",
      question: "What does <script>alert('x')</script> say & mean?",
      reference: 'the "sign"',
      targetKbps: 100,
      baseline: { jpegBase64: jpeg, answer: "<b>no idea</b>", correct: false },
      context: { jpegBase64: `data:image/jpeg;base64,${jpeg}`, answer: "the sign", correct: true },
    },
  ];
  const tricky = [...results, result("context", 300, "answered", true, "Counting", 300, "<script>evil()</script>")];
  const html = renderReport({ config, results: tricky, examples, generatedAt: "2025-01-02T03:04:05Z" });

  it("is one self-contained HTML page with inline SVG charts and no scripts or external assets", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain("<svg");
    expect(html).toContain("Accuracy vs target bitrate");
    expect(html).toContain("<polyline");
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/<link/i);
  });

  it("escapes text from the data", () => {
    expect(html).toContain("What does &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; say &amp; mean?");
    expect(html).toContain("&lt;b&gt;no idea&lt;/b&gt;");
    expect(html).toContain("the &quot;sign&quot;");
    expect(html).toContain("&lt;missing&gt;"); // error messages too
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });

  it("embeds both example frames as data URLs and marks the answers", () => {
    expect(html.split(`src="data:image/jpeg;base64,${jpeg}"`)).toHaveLength(3);
    expect(html).toContain("✗ wrong");
    expect(html).toContain("✓ right");
  });

  it("shows the headline gain, the table, per-task charts, errors and the configuration", () => {
    expect(html).toContain("+8.3 pts");
    expect(html).toContain("66.7% → 75.0%");
    expect(html).toContain("Counting (n=");
    expect(html).toContain("Text-Rich Understanding (n=3)");
    expect(html).toMatch(/<code>VIDEO_MISSING<\/code><\/td><td>1<\/td>/);
    expect(html).toContain("100 kbps @ 640x360");
    expect(html).toContain("2025-01-02T03:04:05Z");
  });

  it("refuses anything but base64 in an image source", () => {
    const bad = renderReport({
      config,
      results,
      examples: [{ ...examples[0]!, baseline: { jpegBase64: '" onerror="x', answer: null, correct: false } }],
      generatedAt: "t",
    });
    expect(bad).not.toContain("onerror");
    expect(bad).toContain("(no frame)");
  });

  it("renders an empty run without failing", () => {
    const empty = renderReport({ config, results: [], examples: [], generatedAt: "t" });
    expect(empty).toContain("No results in this run.");
  });
});
