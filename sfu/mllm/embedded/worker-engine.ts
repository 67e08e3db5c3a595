/**
 * The embedded engine on a worker thread. OCR's pre- and post-processing is JavaScript that keeps
 * the thread busy for tens to hundreds of milliseconds per frame; on the call server's main thread
 * that starved the decoders' pipes (decoded video fell seconds behind while questions were being
 * answered: bench:call measured a receive-latency p95 of 13 s). Here the main thread only posts
 * frames (transferred, not copied) and awaits results.
 */
import { Worker } from "node:worker_threads";
import type { AskRequest, AskResult, GroundRequest, MllmClient, NormalizedBox, VideoFrame } from "../types.ts";
import { MllmError } from "../types.ts";
import type { EmbeddedOcrOptions } from "./engine.ts";

type Call =
  | { op: "ask"; prompt: string; question?: string; frames: VideoFrame[]; account?: string }
  | { op: "regions"; question: string; frame: VideoFrame }
  | { op: "warmUp" };

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

function copyFrame(f: VideoFrame): VideoFrame {
  // A copy that the worker can own: the caller's frame stays usable.
  return { width: f.width, height: f.height, timestampMs: f.timestampMs, rgb: new Uint8Array(f.rgb) };
}

/** One worker thread and the calls it has in hand. */
class OcrThread {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  dead: Error | null = null;

  constructor(options: EmbeddedOcrOptions) {
    this.worker = new Worker(new URL("./worker-main.mjs", import.meta.url), { workerData: { options } });
    this.worker.unref();
    this.worker.on("message", (m: { id: number; ok: boolean; value?: unknown; error?: { code: string; message: string } }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new MllmError((m.error?.code ?? "MODEL_LOAD_FAILED") as MllmError["code"], m.error?.message ?? "worker error"));
    });
    this.worker.on("error", (err) => this.failAll(err));
    this.worker.on("exit", (code) => this.failAll(new Error(`the OCR worker exited with code ${code}`)));
  }

  private failAll(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(new MllmError("MODEL_LOAD_FAILED", `embedded engine worker failed: ${err.message}`, { cause: err }));
    this.pending.clear();
  }
}

/**
 * The worker threads `npm start` and bench:call run by default on a machine with `cores` cores:
 * one less than the cores (the other runs the server's event loop and the video decoders), at
 * least one.
 */
export function defaultOcrWorkers(cores: number): number {
  return Math.max(1, Math.floor(cores) - 1);
}

export interface WorkerOcrOptions extends EmbeddedOcrOptions {
  /** Worker threads (default 1). */
  readonly workers?: number;
}

export class WorkerOcrEngine implements MllmClient {
  readonly name = "embedded-ocr";
  private readonly threads: OcrThread[];
  private next = 1;

  constructor(options: WorkerOcrOptions = {}) {
    const { workers = 1, ...engine } = options;
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new RangeError(`workers must be a whole number from 1 to 64, got ${workers}`);
    this.threads = Array.from({ length: workers }, () => new OcrThread(engine));
  }

  /** Worker threads: how many calls can run at once. */
  get workers(): number {
    return this.threads.length;
  }

  private call<T>(c: Call, thread?: OcrThread, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new MllmError("CANCELLED", "the request was cancelled", { cause: signal.reason }));
    const live = this.threads.filter((t) => t.dead === null);
    const t = thread ?? live.reduce<OcrThread | undefined>((a, b) => (!a || b.pending.size < a.pending.size ? b : a), undefined);
    if (!t || t.dead) {
      const why = this.threads[0]?.dead?.message ?? "no worker";
      return Promise.reject(new MllmError("MODEL_LOAD_FAILED", `embedded engine worker is down: ${why}`));
    }
    const id = this.next++;
    const transfer = c.op === "ask" ? c.frames.map((f) => f.rgb.buffer as ArrayBuffer) : c.op === "regions" ? [c.frame.rgb.buffer as ArrayBuffer] : [];
    // An abort settles the call at once; the worker is told, and drops it at its next step.
    const onAbort = () => {
      const p = t.pending.get(id);
      if (!p) return;
      t.pending.delete(id);
      t.worker.postMessage({ id, op: "cancel" });
      p.reject(new MllmError("CANCELLED", "the request was cancelled", { cause: signal?.reason }));
    };
    return new Promise<T>((resolve, reject) => {
      t.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      t.worker.ref();
      t.worker.postMessage({ id, ...c }, transfer);
      signal?.addEventListener("abort", onAbort, { once: true });
    }).finally(() => {
      signal?.removeEventListener("abort", onAbort);
      if (t.pending.size === 0) t.worker.unref();
    });
  }

  /** Loads the models in every worker. */
  async warmUp(): Promise<void> {
    await Promise.all(this.threads.map((t) => this.call<void>({ op: "warmUp" }, t)));
  }

  ask(req: AskRequest): Promise<AskResult> {
    return this.call({ op: "ask", prompt: req.prompt, ...(req.question !== undefined ? { question: req.question } : {}), frames: req.frames.map(copyFrame), ...(req.account !== undefined ? { account: req.account } : {}) }, undefined, req.signal);
  }

  textRegionsForQuestion(question: string, frame: VideoFrame, signal?: AbortSignal): Promise<{ boxes: NormalizedBox[]; matched: boolean }> {
    return this.call({ op: "regions", question, frame: copyFrame(frame) }, undefined, signal);
  }

  async ground(req: GroundRequest): Promise<NormalizedBox[]> {
    return (await this.textRegionsForQuestion(req.question, req.frame, req.signal)).boxes;
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
