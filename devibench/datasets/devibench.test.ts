import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KNOWN_TASK_TYPES, loadDevibench, splitOptions, taskTypeCounts } from "./devibench.ts";
import { DatasetError } from "./errors.ts";

const dataDir = join(import.meta.dirname, "..", "data");
const tmp = mkdtempSync(join(tmpdir(), "devibench-load-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tempCsv(name: string, content: string): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

describe("DeViBench v2 as shipped", () => {
  const { samples, problems, missingVideos, stats } = loadDevibench(join(dataDir, "devibench-v2.csv"), {
    version: "v2",
  });

  it("loads all 1968 rows with no problems", () => {
    expect(problems).toEqual([]);
    expect(samples).toHaveLength(1968);
    expect(stats).toMatchObject({ rows: 1968, loaded: 1968, rejected: 0, warnings: 0, distinctVideos: 473 });
    expect(missingVideos).toBe(0); // no videosDir given
  });

  it("has the published task-type mix (Text-Rich Understanding is 81.9%)", () => {
    expect(taskTypeCounts(samples)).toEqual({
      "Text-Rich Understanding": 1611,
      "Attribute Perception": 227,
      "Object Perception": 67,
      Counting: 50,
      "Action Perception": 7,
      "Spatial Understanding": 6,
    });
    expect(Object.keys(taskTypeCounts(samples))[0]).toBe("Text-Rich Understanding");
    expect(1611 / 1968).toBeCloseTo(0.8186, 4);
  });

  it("gives unique ids, 5-second segments and the CSV line of each row", () => {
    expect(new Set(samples.map((s) => s.id)).size).toBe(1968);
    expect(samples[0]).toMatchObject({
      id: "10@100#1",
      dataset: "devibench-v2",
      videoPath: null,
      startSec: 100,
      durationSec: 5,
      answer: "yellow",
      taskType: "Attribute Perception",
      line: 2,
    });
    expect(samples.every((s) => s.durationSec === 5 && s.startSec >= 0 && s.question !== "" && s.answer !== "")).toBe(true);
    // Lines 243 and 1939 are the same row twice in the published file; both stay, with distinct ids.
    const dup = samples.filter((s) => s.answer === "ANYA CAFE" && s.startSec === 100);
    expect(dup.map((s) => [s.id, s.line])).toEqual([
      ["368@100#242", 243],
      ["368@100#1938", 1939],
    ]);
    // Answers with trailing spaces in the file come out trimmed.
    expect(samples.some((s) => s.answer === "$8.49")).toBe(true);
  });

  it("stops after `limit` samples", () => {
    const few = loadDevibench(join(dataDir, "devibench-v2.csv"), { version: "v2", limit: 3 });
    expect(few.samples.map((s) => s.id)).toEqual(["10@100#1", "4@100#2", "2@100#3"]);
    expect(few.stats.rows).toBe(3);
  });
});

describe("DeViBench v1 as shipped", () => {
  const { samples, problems, stats } = loadDevibench(join(dataDir, "devibench-v1.csv"), { version: "v1" });

  it("loads all 1074 rows, each with 2+ options and an answer letter among them", () => {
    expect(problems).toEqual([]);
    expect(samples).toHaveLength(1074);
    expect(stats.distinctVideos).toBe(415);
    for (const s of samples) {
      expect(s.options?.length ?? 0).toBeGreaterThanOrEqual(2);
      const letters = (s.options ?? []).map((o) => o[0]);
      expect(letters).toContain(s.answerLetter);
      expect(s.options).toContain(`${s.answerLetter}) ${s.answer}`);
    }
    expect(taskTypeCounts(samples)).toEqual({
      "Text-Rich Understanding": 589,
      "Action Perception": 183,
      "Attribute Perception": 155,
      Counting: 65,
      "Object Perception": 63,
      "Spatial Understanding": 19,
    });
  });

  it("splits multi-line options and the one row written without spaces", () => {
    expect(samples[0]).toMatchObject({
      id: "1@10#1",
      answer: "Ramon Sanchez-Pizjuan",
      answerLetter: "B",
      options: ["A) Ramon Sanchez-Pizuan", "B) Ramon Sanchez-Pizjuan", "C) Ramon Sanchez-Pizjua", "D) Ramon Sanchez-Pizjuan Stadium"],
    });
    const tight = samples.find((s) => s.line === 603);
    expect(tight).toMatchObject({ options: ["A) 70", "B) 72", "C) 75", "D) 76"], answerLetter: "D", answer: "76" });
  });
});

describe("bad rows", () => {
  it("become RowProblems naming line and field while the good rows load", () => {
    const path = tempCsv(
      "bad-v2.csv",
      [
        "\uFEFFsample_id,start_time,question,std_answer,Frame,task_type",
        "1,10,Good question?,yes,Single,Counting",
        "2,20,,no,Single,Counting", // line 3: missing question
        "3,-5,Negative start?,no,Single,Counting", // line 4
        "abc,30,Id not a number?,no,Single,Counting", // line 5
        "4,40,New task type?,yes,Single,Lip Reading", // line 6: kept, with a warning
        '5,50,"Stray "quote,no,Single,Counting', // line 7: CSV error
        "6,60,Too few fields", // line 8
        "7,soon,When?,no,Single,Counting", // line 9
        "8,70,Last good one?,yes,Multi,Text-Rich Understanding",
      ].join("\r\n"),
    );
    const { samples, problems, stats } = loadDevibench(path, { version: "v2" });
    expect(samples.map((s) => s.id)).toEqual(["1@10#1", "4@40#5", "8@70#9"]);
    expect(problems.map((p) => [p.line, p.field, p.level])).toEqual([
      [3, "question", "error"],
      [4, "start_time", "error"],
      [5, "sample_id", "error"],
      [6, "task_type", "warning"],
      [7, "(row)", "error"],
      [8, "(row)", "error"],
      [9, "start_time", "error"],
    ]);
    expect(problems[0]?.message).toMatch(/question is empty/);
    expect(problems[1]?.message).toBe('start_time must be >= 0 (got "-5")');
    expect(problems[2]?.message).toMatch(/sample_id is not a whole number \(got "abc"\)/);
    expect(problems[3]?.message).toMatch(/Lip Reading/);
    expect(problems[4]?.message).toMatch(/line 7/);
    expect(problems[5]?.message).toMatch(/3 fields, the header has 6/);
    expect(stats).toMatchObject({ rows: 9, loaded: 3, rejected: 6, warnings: 1 });
  });

  it("in v1: too few options and an answer letter that is not an option", () => {
    const path = tempCsv(
      "bad-v1.csv",
      [
        "sample_folder,start_time,question,options,standard_answer,task_type",
        "sample_1,10,Q1?,A) x B) y,B,Counting",
        "sample_2,10,Q2?,only one choice,A,Counting",
        "sample_3,10,Q3?,A) x B) y C) z,E,Counting",
        'sample_4,10,Q4?,"A) red\nB) blue",B) Blue,Counting',
        "folder_5,10,Q5?,A) x B) y,A,Counting",
      ].join("\n"),
    );
    const { samples, problems } = loadDevibench(path, { version: "v1" });
    expect(samples.map((s) => [s.id, s.answerLetter, s.answer])).toEqual([
      ["1@10#1", "B", "y"],
      ["4@10#4", "B", "blue"],
    ]);
    expect(problems.map((p) => [p.line, p.field])).toEqual([
      [3, "options"],
      [4, "standard_answer"],
      [7, "sample_folder"],
    ]);
  });

  it("a wrong header or a missing file is a typed error", () => {
    const v1 = join(dataDir, "devibench-v1.csv");
    expect(() => loadDevibench(v1, { version: "v2" })).toThrow(DatasetError);
    expect(() => loadDevibench(v1, { version: "v2" })).toThrow(/no column sample_id, std_answer/);
    try {
      loadDevibench(join(tmp, "nope.csv"), { version: "v2" });
      expect.unreachable();
    } catch (e) {
      expect((e as DatasetError).code).toBe("DATASET_NOT_FOUND");
    }
  });
});

describe("splitOptions", () => {
  it("only starts a new choice at the next expected letter", () => {
    expect(splitOptions("A) Plan B) is fine B) Plan A C) Neither").map((c) => c.text)).toEqual([
      "Plan",
      "is fine B) Plan A",
      "Neither",
    ]);
    expect(splitOptions("no letters here")).toEqual([]);
    expect(KNOWN_TASK_TYPES).toHaveLength(6);
  });
});
