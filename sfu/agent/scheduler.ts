/**
 * Shares the model's workers fairly between rooms: each room has its own first-in-first-out queue
 * of model calls, and a free worker takes the next call from the room served longest ago (round
 * robin over rooms with work waiting, as in fair queueing: Nagle, "On Packet Switches with Infinite
 * Storage", RFC 970, one queue per source served in turn). A room that asks 15 questions at once
 * then delays another room's question by at most one call per worker, not by all 15.
 *
 * The scheduler orders calls and never runs more than `concurrency` at once. With the embedded
 * engine the call server lets two calls per worker through: the engine runs the model steps of
 * the room that had the least model time lately first (engine.ts), so a quiet room's question
 * goes between the steps of a busy room's question already under way instead of waiting for it.
 */
export interface SchedulerStats {
  readonly running: number;
  readonly waiting: number;
  /** Rooms with calls waiting. */
  readonly rooms: number;
}

interface Job {
  readonly run: () => Promise<unknown>;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly signal: AbortSignal | undefined;
  /** Removes the job's abort listener (once it leaves the queue: the signal lives as long as the participant). */
  unlisten: () => void;
}

export class FairScheduler {
  /** Waiting calls per room, rooms in the order their queue was opened. */
  private readonly queues = new Map<string, Job[]>();
  /** When each room with calls running or waiting was last served (a counter); never: absent. */
  private readonly lastServed = new Map<string, number>();
  private readonly runningByRoom = new Map<string, number>();
  private served = 0;
  private running = 0;

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number >= 1, got ${concurrency}`);
  }

  /**
   * Runs `task` when a worker is free and it is `key`'s turn. A task whose signal aborts while it
   * waits is dropped and rejects with the signal's reason.
   */
  run<T>(key: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const job: Job = { run: task, resolve: resolve as (v: unknown) => void, reject, signal, unlisten: () => {} };
      let q = this.queues.get(key);
      if (!q) this.queues.set(key, (q = []));
      q.push(job);
      if (signal) {
        // Removed when the job starts: one signal serves every call of a participant, and a
        // listener left per call piled up over a long call (Node warned at 11).
        const onAbort = () => this.drop(key, job);
        signal.addEventListener("abort", onAbort, { once: true });
        job.unlisten = () => signal.removeEventListener("abort", onAbort);
      }
      this.pump();
    });
  }

  get stats(): SchedulerStats {
    let waiting = 0;
    for (const q of this.queues.values()) waiting += q.length;
    return { running: this.running, waiting, rooms: this.queues.size };
  }

  private drop(key: string, job: Job): void {
    const q = this.queues.get(key);
    const i = q?.indexOf(job) ?? -1;
    if (i < 0) return;
    q!.splice(i, 1);
    if (q!.length === 0) {
      this.queues.delete(key);
      this.forgetIfDone(key);
    }
    job.reject(job.signal?.reason);
  }

  private forgetIfDone(key: string): void {
    if (!this.queues.has(key) && !this.runningByRoom.has(key)) this.lastServed.delete(key);
  }

  /** The room whose turn it is: the one served longest ago (never served first, in arrival order). */
  private nextRoom(): string | undefined {
    let best: string | undefined;
    let bestAt = Infinity;
    for (const key of this.queues.keys()) {
      const at = this.lastServed.get(key) ?? -1;
      if (at < bestAt) [best, bestAt] = [key, at];
    }
    return best;
  }

  private pump(): void {
    for (let key = this.nextRoom(); this.running < this.concurrency && key !== undefined; key = this.nextRoom()) {
      const q = this.queues.get(key)!;
      const job = q.shift()!;
      job.unlisten();
      if (q.length === 0) this.queues.delete(key);
      this.lastServed.set(key, ++this.served);
      this.runningByRoom.set(key, (this.runningByRoom.get(key) ?? 0) + 1);
      this.running++;
      let p: Promise<unknown>;
      try {
        p = job.run();
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(job.resolve, job.reject).finally(() => {
        this.running--;
        const left = this.runningByRoom.get(key)! - 1;
        if (left > 0) this.runningByRoom.set(key, left);
        else this.runningByRoom.delete(key);
        this.forgetIfDone(key);
        this.pump();
      });
    }
  }
}
