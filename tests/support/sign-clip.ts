/**
 * The fixture the call suites share: a generated clip of a sign with text (in a temporary folder)
 * and a warmed-up embedded OCR engine, made once per test file and removed after it. Call it at
 * the top level of a test file; the fields are valid from the first test on.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { generateClip, type ClipSpec } from "../../encoder/synth/clip.ts";
import type { RegionFinder } from "../../sfu/agent/context-engine.ts";
import { WorkerOcrEngine } from "../../sfu/mllm/embedded/worker-engine.ts";

export interface SignClipFixture {
  /** The clip's path. */
  readonly clip: string;
  readonly engine: WorkerOcrEngine;
  /** The engine's text regions for a question, as the call server's `regionFinder`. */
  readonly regionFinder: RegionFinder;
}

export function signClipFixture(dirPrefix: string, spec: ClipSpec, fileName = "c.mkv"): SignClipFixture {
  let dir: string | undefined;
  let clip: string | undefined;
  let engine: WorkerOcrEngine | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), dirPrefix));
    clip = (await generateClip(resolveFfmpeg({ env: process.env }).path, join(dir, fileName), spec)).path;
    engine = new WorkerOcrEngine();
    await engine.warmUp();
  });
  afterAll(async () => {
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`signClipFixture: ${what} is made in beforeAll; use it inside a test`);
    return v;
  };
  return {
    get clip() {
      return ready(clip, "the clip");
    },
    get engine() {
      return ready(engine, "the engine");
    },
    regionFinder: { find: (q, f) => ready(engine, "the engine").textRegionsForQuestion(q, f) },
  };
}

/** Functions run after each test, last added first (calls, servers, links a test opened). */
export function cleanupsAfterEach(): Array<() => Promise<unknown> | unknown> {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}
