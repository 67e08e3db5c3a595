/**
 * Per-sample results as JSON Lines. Each result is appended as soon as it is known, so an
 * interrupted run loses nothing finished, and a new run in the same folder skips what is done.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import type { Condition, SampleResult } from "../types.ts";

export function conditionKey(c: Condition): string {
  return [c.method, c.method === "context" ? (c.regionSource ?? "ground-truth") : "-", c.targetKbps, c.network.name].join("|");
}

export function resultKey(sampleId: string, c: Condition): string {
  return `${sampleId}#${conditionKey(c)}`;
}

export interface LoadedResults {
  readonly results: SampleResult[];
  /** Lines that could not be parsed (a run killed mid-write leaves at most one). */
  readonly badLines: number[];
}

export function readResults(path: string): LoadedResults {
  if (!existsSync(path)) return { results: [], badLines: [] };
  const results: SampleResult[] = [];
  const badLines: number[] = [];
  readFileSync(path, "utf8").split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      const r = JSON.parse(line) as SampleResult;
      if (typeof r.sampleId !== "string" || typeof r.condition !== "object") throw new Error("not a result");
      results.push(r);
    } catch {
      badLines.push(i + 1);
    }
  });
  return { results, badLines };
}

export class ResultLog {
  private readonly done = new Map<string, SampleResult>();

  constructor(private readonly path: string, existing: readonly SampleResult[] = [], retryErrors = false) {
    for (const r of existing) {
      if (retryErrors && r.status === "error") continue;
      this.done.set(resultKey(r.sampleId, r.condition), r);
    }
  }

  has(sampleId: string, c: Condition): boolean {
    return this.done.has(resultKey(sampleId, c));
  }

  append(r: SampleResult): void {
    // One write per line: a crash can cut the last line short but never mixes two results.
    appendFileSync(this.path, JSON.stringify(r) + "\n");
    this.done.set(resultKey(r.sampleId, r.condition), r);
  }

  /** Latest result per (sample, condition), in insertion order. */
  all(): SampleResult[] {
    return [...this.done.values()];
  }
}
