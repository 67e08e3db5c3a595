/**
 * The bench's side of the publisher worker (publisher-worker.ts): forks it, numbers requests,
 * parses every reply against the request's result schema, and collects the worker's events.
 * A request that gets no reply in time fails with WORKER_FAILED; so does a worker that exits.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BenchError } from "./errors.ts";
import { describeIssue, FromWorker, RESULT_SCHEMAS, type RequestBody, type ResultOf, type WorkerEvent, type WorkerRequest } from "./worker-protocol.ts";

interface Pending {
  readonly type: WorkerRequest["type"];
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class PublisherFleet {
  readonly events: WorkerEvent[] = [];
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor() {
    // The worker inherits this process's execArgv: under tsx that is tsx's loader, so it can run .ts.
    this.child = fork(fileURLToPath(new URL("./publisher-worker.ts", import.meta.url)), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.exit = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exited = true;
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new BenchError("WORKER_FAILED", `the publisher worker exited (${signal ?? `code ${code}`}) before answering request ${id} (${p.type})`));
        }
        this.pending.clear();
        resolve();
      });
    });
    this.child.on("message", (raw) => this.onMessage(raw));
  }

  static async spawn(): Promise<PublisherFleet> {
    const f = new PublisherFleet();
    await new Promise<void>((resolve, reject) => {
      f.child.once("spawn", () => resolve());
      f.child.once("error", (err) => reject(new BenchError("WORKER_FAILED", `could not start the publisher worker: ${err.message}`, { cause: err })));
    });
    return f;
  }

  get pid(): number {
    return this.child.pid!;
  }

  request<T extends WorkerRequest["type"]>(body: RequestBody<T> & { type: T }, timeoutMs: number): Promise<ResultOf<T>> {
    if (this.exited) return Promise.reject(new BenchError("WORKER_FAILED", "the publisher worker has exited"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new BenchError("WORKER_FAILED", `the publisher worker did not answer ${body.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { type: body.type, resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ ...body, id });
    });
  }

  private onMessage(raw: unknown): void {
    const parsed = FromWorker.safeParse(raw);
    if (!parsed.success) {
      this.events.push({ type: "event", callId: null, level: "error", name: "bench.bad-worker-message", message: describeIssue(parsed.error) });
      return;
    }
    const msg = parsed.data;
    if (msg.type === "event") {
      this.events.push(msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return; // timed out already
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (!msg.ok) {
      p.reject(new BenchError("WORKER_FAILED", `publisher worker, ${p.type}: ${msg.error.code}: ${msg.error.message}`));
      return;
    }
    const result = RESULT_SCHEMAS[p.type].safeParse(msg.result);
    if (result.success) p.resolve(result.data);
    else p.reject(new BenchError("WORKER_FAILED", `publisher worker, ${p.type} reply: ${describeIssue(result.error)}`));
  }

  /** Closes every publisher, then lets the worker go (it exits on disconnect); SIGKILL after `timeoutMs`. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.exited) return;
    await this.request({ type: "close-all" }, timeoutMs).catch(() => {});
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await this.exit;
    clearTimeout(timer);
  }
}
