import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../encoder/synth/prng.ts";
import { abortableSleep, backoffDelay, DEFAULT_BACKOFF, parseRetryAfter, Semaphore } from "./retry.ts";

describe("backoffDelay", () => {
  it("with the default policy, grows by the factor and stays within [half, full] of each step", () => {
    const rng = mulberry32(42);
    const waits = [0, 1, 2, 3, 4, 5].map((r) => backoffDelay(r, DEFAULT_BACKOFF, rng));
    const steps = [500, 1000, 2000, 4000, 8000, 8000];
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(steps[i]! / 2);
      expect(w).toBeLessThanOrEqual(steps[i]!);
    });
    for (let i = 1; i < 5; i++) expect(waits[i]!).toBeGreaterThan(waits[i - 1]!);
  });
});

describe("parseRetryAfter", () => {
  it("with seconds, returns milliseconds capped at maxMs", () => {
    expect(parseRetryAfter("2", 8000, 0)).toBe(2000);
    expect(parseRetryAfter("120", 8000, 0)).toBe(8000);
  });

  it("with an HTTP date, returns the time until then", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:03 GMT", 8000, now)).toBe(3000);
  });

  it("with no header or nonsense, returns null", () => {
    expect(parseRetryAfter(null, 8000, 0)).toBeNull();
    expect(parseRetryAfter("soon", 8000, 0)).toBeNull();
  });
});

describe("abortableSleep", () => {
  it("with a signal aborted during the wait, rejects with CANCELLED", async () => {
    const ac = new AbortController();
    const p = abortableSleep(10_000, ac.signal);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: "CANCELLED" });
  });
});

describe("Semaphore", () => {
  it("with a limit of 2, lets two in and the third in only after a release", async () => {
    const s = new Semaphore(2);
    const r1 = await s.acquire();
    await s.acquire();
    let third = false;
    const p = s.acquire().then((r) => ((third = true), r));
    await Promise.resolve();
    expect(third).toBe(false);
    r1();
    r1(); // a second release of the same slot must not free another
    await p;
    expect(third).toBe(true);
    let fourth = false;
    void s.acquire().then(() => (fourth = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(fourth).toBe(false);
  });

  it("with a waiter whose signal aborts, removes it from the queue with CANCELLED", async () => {
    const s = new Semaphore(1);
    const release = await s.acquire();
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: "CANCELLED" });
    release();
    const next = await s.acquire(); // the slot went free, not to the cancelled waiter
    expect(typeof next).toBe("function");
  });
});
