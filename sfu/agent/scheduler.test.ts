import { describe, expect, it } from "vitest";
import { FairScheduler } from "./scheduler.ts";

/** A task that finishes when `release()` is called, recording when it started. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { run: async () => { log.push(name); await done; return name; }, release: () => release() };
}

describe("FairScheduler", () => {
  it("serves rooms in turn: a room's flood delays another room's call by one call, not by the flood", async () => {
    const s = new FairScheduler(1);
    const log: string[] = [];
    const flood = Array.from({ length: 15 }, (_, i) => gate(log, `A${i}`));
    const runs = flood.map((g) => s.run("room-a", g.run));
    const b = gate(log, "B0");
    const bRun = s.run("room-b", b.run);
    expect(log).toEqual(["A0"]);
    flood[0]!.release();
    await runs[0];
    await Promise.resolve();
    expect(log).toEqual(["A0", "B0"]);
    b.release();
    expect(await bRun).toBe("B0");
    for (const g of flood) g.release();
    await Promise.all(runs);
    expect(log.slice(2)).toEqual(flood.slice(1).map((_, i) => `A${i + 1}`));
    expect(s.stats).toEqual({ running: 0, waiting: 0, rooms: 0 });
  });

  it("runs at most `concurrency` calls at once and passes errors to their caller only", async () => {
    const s = new FairScheduler(2);
    let running = 0;
    let peak = 0;
    const task = (fail: boolean) => async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (fail) throw new Error("model down");
      return 1;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map((i) => s.run(`r${i % 3}`, task(i === 2))));
    expect(peak).toBe(2);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    expect(() => new FairScheduler(0)).toThrow(/concurrency/);
  });

  it("drops a waiting call whose signal aborts", async () => {
    const s = new FairScheduler(1);
    const log: string[] = [];
    const a = gate(log, "a");
    const first = s.run("x", a.run);
    const ctl = new AbortController();
    const second = s.run("y", async () => "never", ctl.signal);
    ctl.abort(new Error("question withdrawn"));
    await expect(second).rejects.toThrow("question withdrawn");
    a.release();
    await first;
    expect(s.stats.waiting).toBe(0);
  });
});

describe("FairScheduler and a participant's signal", () => {
  it("leaves no abort listener behind on the signal once a call has started", async () => {
    const s = new FairScheduler(1);
    const gone = new AbortController();
    let listeners = 0;
    const add = gone.signal.addEventListener.bind(gone.signal);
    const remove = gone.signal.removeEventListener.bind(gone.signal);
    gone.signal.addEventListener = ((...a: Parameters<typeof add>) => (listeners++, add(...a))) as typeof add;
    gone.signal.removeEventListener = ((...a: Parameters<typeof remove>) => (listeners--, remove(...a))) as typeof remove;
    for (let i = 0; i < 50; i++) await s.run("room", async () => i, gone.signal);
    expect(listeners).toBe(0);
    await new Promise((r) => setTimeout(r, 0)); // the last call's bookkeeping ends after its result
    // Still dropped when it aborts while waiting.
    let release!: () => void;
    const first = s.run("room", () => new Promise<void>((r) => (release = r)), gone.signal);
    const second = s.run("room", async () => "ran", gone.signal);
    gone.abort(new Error("the participant left"));
    await expect(second).rejects.toThrow(/left/);
    release();
    await first;
    await new Promise((r) => setTimeout(r, 0));
    expect(s.stats).toEqual({ running: 0, waiting: 0, rooms: 0 });
  });
});
