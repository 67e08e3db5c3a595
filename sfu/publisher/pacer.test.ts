import { describe, expect, it } from "vitest";
import { Pacer } from "./pacer.ts";

/** A virtual clock with one timer queue: `run` advances time, firing timers in order. */
function clock() {
  let t = 0;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => t,
    schedule: (fn: () => void, ms: number) => timers.push({ at: t + ms, fn }),
    run(untilMs: number) {
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > untilMs) break;
        timers.shift();
        t = Math.max(t, next.at);
        next.fn();
      }
      t = Math.max(t, untilMs);
    },
    set(ms: number) {
      t = ms;
    },
  };
}

describe("Pacer", () => {
  it("enqueue, a 30-packet keyframe at a 600 kbps cap, spreads it at 2.5x (6.4 ms a packet), in order", () => {
    const c = clock();
    const p = new Pacer(600_000, c);
    const sentAt: number[] = [];
    const order: number[] = [];
    p.enqueue(Array.from({ length: 30 }, (_, i) => ({ bytes: 1200, send: () => (sentAt.push(c.now()), order.push(i)) })));
    expect(sentAt.length, "the first packet goes at once").toBe(1);
    c.run(1000);
    expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(sentAt.at(-1)!).toBeCloseTo(29 * 6.4, 0);
    for (let i = 1; i < sentAt.length; i++) expect(sentAt[i]! - sentAt[i - 1]!).toBeGreaterThanOrEqual(6.4 - 1e-9);
  });

  it("enqueue, after an idle second, does not send a burst on saved-up budget", () => {
    const c = clock();
    const p = new Pacer(600_000, c);
    p.enqueue([{ bytes: 1200, send: () => {} }]);
    c.run(1000);
    const sentAt: number[] = [];
    p.enqueue(Array.from({ length: 5 }, () => ({ bytes: 1200, send: () => sentAt.push(c.now()) })));
    c.run(2000);
    expect(sentAt.map((t) => Math.round(t - 1000))).toEqual([0, 6, 13, 19, 26]);
  });

  it("enqueue, 5 Mbps offered against a 100 kbps cap, keeps the queue within 500 ms of sending", () => {
    const c = clock();
    const p = new Pacer(100_000, c);
    for (let f = 0; f < 100; f++) {
      c.run(f * 33);
      p.enqueue(Array.from({ length: 17 }, () => ({ bytes: 1200, send: () => {} })));
    }
    c.run(10_000);
    expect(p.sent).toBe(1700);
    expect(p.maxWaitMs, `longest wait ${p.maxWaitMs} ms`).toBeLessThanOrEqual(540);
  });

  it("setCapBps, a lower cap, spaces the next packets wider", () => {
    const c = clock();
    const p = new Pacer(1_000_000, c);
    p.setCapBps(200_000);
    const sentAt: number[] = [];
    p.enqueue(Array.from({ length: 3 }, () => ({ bytes: 1250, send: () => sentAt.push(c.now()) })));
    c.run(100);
    expect(sentAt).toEqual([0, 20, 40]);
  });

  it("constructor, a cap of 0, throws a RangeError", () => {
    expect(() => new Pacer(0, clock())).toThrow(RangeError);
  });
});
