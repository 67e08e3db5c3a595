import { describe, expect, it } from "vitest";
import { AnswerStreams } from "./answers.ts";
import { PublisherError } from "./errors.ts";
import { TypedEvents } from "./events.ts";
import { BitrateCap } from "./rate-policy.ts";

describe("BitrateCap", () => {
  it("setServerCap, a cap below the configured bitrate, applies at once; null goes back to the configured bitrate", () => {
    const cap = new BitrateCap(400_000);
    expect(cap.setServerCap(150_000)).toBe(true);
    expect(cap.capBps).toBe(150_000);
    expect(cap.setServerCap(1_000_000)).toBe(true);
    expect(cap.capBps).toBe(400_000);
    expect(cap.setServerCap(null)).toBe(false);
  });

  it("setRemb, an estimate within 5% under the cap changes nothing, further under applies; a rise needs 15%", () => {
    const cap = new BitrateCap(400_000);
    expect(cap.setRemb(390_000)).toBe(false);
    expect(cap.capBps).toBe(400_000);
    expect(cap.setRemb(350_000)).toBe(true);
    expect(cap.capBps).toBe(350_000);
    expect(cap.setRemb(300_000)).toBe(true);
    expect(cap.capBps).toBe(300_000);
    // Recovery needs a 15% move.
    expect(cap.setRemb(330_000)).toBe(false);
    expect(cap.setRemb(390_000)).toBe(true);
    expect(cap.capBps).toBe(390_000);
  });

  it("setRemb, an estimate below the floor, caps at the floor; the server cap below REMB wins", () => {
    const cap = new BitrateCap(400_000, { minRembBps: 50_000 });
    cap.setRemb(10_000);
    expect(cap.capBps).toBe(50_000);
    cap.setRemb(1_000_000);
    cap.setServerCap(120_000);
    expect(cap.capBps).toBe(120_000);
  });

  it("setRemb, estimates in any order, zero, huge or not a number, keeps the cap a bitrate between the floor and the configured one", () => {
    const cap = new BitrateCap(600_000, { minRembBps: 50_000 });
    const seen: number[] = [];
    for (const bps of [300_000, 900_000, 0, 250_000, Number.MAX_VALUE, 120_000, Infinity, 450_000, -5, Number.NaN, 200_000]) {
      cap.setRemb(bps);
      seen.push(cap.capBps);
    }
    for (const c of seen) {
      expect(Number.isFinite(c)).toBe(true);
      expect(c).toBeGreaterThanOrEqual(50_000);
      expect(c).toBeLessThanOrEqual(600_000);
    }
    // The last valid estimate rules: -5 and NaN were ignored, 200 kbps applies.
    expect(cap.capBps).toBe(200_000);
    expect(cap.setRemb(Number.NaN)).toBe(false);
    expect(cap.remb).toBe(200_000);
  });
});

describe("AnswerStreams", () => {
  async function collect(it: AsyncIterable<string>): Promise<string[]> {
    const out: string[] = [];
    for await (const c of it) out.push(c);
    return out;
  }

  it("push, chunks before and after the reader waits, yields them in order and ends at final", async () => {
    const s = new AnswerStreams();
    const it = s.open("q1");
    s.push("q1", "The ", false);
    const done = collect(it);
    await Promise.resolve();
    s.push("q1", "sign", false);
    s.push("q1", "", true);
    expect(await done).toEqual(["The ", "sign"]);
    expect(s.waiting).toBe(0);
    expect(s.push("q1", "late", false)).toBe(false);
  });

  it("push, chunks for another id, do not reach this question", async () => {
    const s = new AnswerStreams();
    const a = s.open("a");
    expect(s.push("b", "x", true)).toBe(false);
    s.push("a", "y", true);
    expect(await collect(a)).toEqual(["y"]);
  });

  it("fail(null), two waiting questions, ends both with the error", async () => {
    const s = new AnswerStreams();
    const [a, b] = [collect(s.open("a")), collect(s.open("b"))];
    s.fail(null, new PublisherError("CLOSED", "closed"));
    await expect(a).rejects.toMatchObject({ code: "CLOSED" });
    await expect(b).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("open, an aborted signal, ends the answer with CLOSED", async () => {
    const s = new AnswerStreams();
    const ac = new AbortController();
    const p = collect(s.open("a", ac.signal));
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: "CLOSED" });
  });
});

describe("TypedEvents", () => {
  it("emit, a listener that throws, still reaches the next listener and reports the error", () => {
    const errors: unknown[] = [];
    const ev = new TypedEvents<{ [k: string]: unknown; frame: number }>((err) => errors.push(err));
    const got: number[] = [];
    ev.on("frame", () => {
      throw new Error("listener bug");
    });
    const off = ev.on("frame", (n) => got.push(n));
    ev.emit("frame", 1);
    off();
    ev.emit("frame", 2);
    expect(got).toEqual([1]);
    expect(errors).toHaveLength(2);
  });

  it("once, two emits, calls the listener once", () => {
    const ev = new TypedEvents<{ [k: string]: unknown; x: string }>();
    const got: string[] = [];
    ev.once("x", (v) => got.push(v));
    ev.emit("x", "a");
    ev.emit("x", "b");
    expect(got).toEqual(["a"]);
  });
});
