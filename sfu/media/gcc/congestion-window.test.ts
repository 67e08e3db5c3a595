import { describe, expect, it } from "vitest";
import { CongestionWindow } from "./congestion-window.ts";

describe("CongestionWindow", () => {
  it("counts bytes sent and not yet covered by feedback", () => {
    const w = new CongestionWindow();
    for (let i = 0; i < 10; i++) w.onSent(i, 1200, i);
    expect(w.inFlightBytes).toBe(12_000);
    w.onFeedback(4, 20);
    expect(w.inFlightBytes).toBe(6000);
    w.onFeedback(9, 30);
    expect(w.inFlightBytes).toBe(0);
  });

  it("is not used before the first feedback: a receiver that sends none does not stop the sender", () => {
    const w = new CongestionWindow();
    for (let i = 0; i < 100; i++) w.onSent(i, 1200, i);
    expect(w.admits(300_000, 100, 100)).toBe(true);
  });

  it("holds frames back while the bytes in flight fill the rate times RTT + feedback interval + accepted queue and the oldest has waited that long", () => {
    const w = new CongestionWindow({ acceptedQueueMs: 100, feedbackIntervalMs: 50 });
    // 300 kbps x 250 ms = 9375 bytes.
    expect(w.windowBytes(300_000, 100)).toBeCloseTo(9375, 6);
    w.onSent(0, 1200, 0);
    w.onFeedback(0, 10);
    for (let i = 1; i <= 7; i++) w.onSent(i, 1200, 10 + i);
    expect(w.inFlightBytes).toBe(8400);
    expect(w.admits(300_000, 100, 20)).toBe(true);
    w.onSent(8, 1200, 21);
    // Full, but the oldest left 11 ms ago: a burst on its way, not a queue.
    expect(w.admits(300_000, 100, 22)).toBe(true);
    // Full, and the oldest has waited 250 ms and more: stuck.
    expect(w.admits(300_000, 100, 262)).toBe(false);
    w.onFeedback(3, 262);
    expect(w.admits(300_000, 100, 262)).toBe(true);
  });

  it("without a round trip from the caller, uses the least send-to-feedback delay of the last 10 s", () => {
    const w = new CongestionWindow({ acceptedQueueMs: 100, feedbackIntervalMs: 50 });
    expect(w.feedbackRttMs).toBeNull();
    expect(w.windowBytes(80_000)).toBeCloseTo((80_000 * 250) / 8000, 6); // 100 ms assumed
    w.onSent(0, 1000, 0);
    w.onSent(1, 1000, 10);
    w.onFeedback(1, 130); // packet 1: 120 ms
    w.onSent(2, 1000, 200);
    w.onFeedback(2, 290); // 90 ms
    w.onSent(3, 1000, 300);
    w.onFeedback(3, 500); // 200 ms, a queue
    expect(w.feedbackRttMs).toBe(90);
    expect(w.windowBytes(80_000)).toBeCloseTo((80_000 * 240) / 8000, 6);
    w.onSent(4, 1000, 20_000);
    w.onFeedback(4, 20_150); // the old samples are gone
    expect(w.feedbackRttMs).toBe(150);
  });

  it("never shrinks below its minimum, so one packet can always go at a tiny rate", () => {
    const w = new CongestionWindow({ minBytes: 2400 });
    expect(w.windowBytes(1000, 0)).toBe(2400);
    expect(w.windowBytes(0, -50)).toBe(2400);
  });

  it("ignores reordered, duplicated and impossible feedback", () => {
    const w = new CongestionWindow();
    for (let i = 0; i < 10; i++) w.onSent(i, 1000, i);
    w.onFeedback(6, 20);
    w.onFeedback(3, 21); // older, arrived late
    w.onFeedback(6, 22); // duplicate
    expect(w.inFlightBytes).toBe(3000);
    w.onFeedback(50, 23); // names a packet never sent
    w.onFeedback(Number.NaN, 24);
    w.onFeedback(8.5, 25);
    expect(w.inFlightBytes).toBe(3000);
  });

  it("stops counting entries no feedback covered for staleMs: zero feedback for 10 s leaves a bounded trickle, not a stop", () => {
    const w = new CongestionWindow({ staleMs: 3000 });
    let seq = 0;
    w.onSent(seq++, 1200, 0);
    w.onFeedback(0, 5);
    // From here the receiver goes silent for 10 s; the sender offers a 3 KB frame every 100 ms.
    let framesSent = 0;
    let maxInFlight = 0;
    for (let t = 100; t <= 10_000; t += 100) {
      if (w.admits(300_000, 100, t)) {
        framesSent++;
        for (let k = 0; k < 3; k++) w.onSent(seq++, 1000, t);
      }
      maxInFlight = Math.max(maxInFlight, w.inFlightBytes);
    }
    // About one window (9375 B: 4 frames) per 3 s, never more than a window and a frame in flight.
    expect(framesSent).toBeGreaterThanOrEqual(8);
    expect(framesSent).toBeLessThanOrEqual(20);
    expect(maxInFlight).toBeLessThanOrEqual(9375 + 3000);
  });

  it("a clock jump forward clears the count once; a jump back stops nothing; neither breaks it", () => {
    const w = new CongestionWindow();
    for (let i = 0; i < 20; i++) w.onSent(i, 1200, 1000 + i);
    w.onFeedback(1, 1100);
    expect(w.admits(300_000, 100, 1300)).toBe(false);
    expect(w.admits(300_000, 100, -3_600_000)).toBe(true);
    expect(w.inFlightBytes).toBe(18 * 1200);
    expect(w.admits(300_000, 100, 3_600_000)).toBe(true);
    expect(w.inFlightBytes).toBe(0);
    w.onSent(20, 1200, 3_600_001);
    w.onFeedback(20, 3_600_050);
    expect(w.inFlightBytes).toBe(0);
  });

  it("refuses sequence numbers that do not increase and non-positive sizes", () => {
    const w = new CongestionWindow();
    w.onSent(5, 100, 0);
    expect(() => w.onSent(5, 100, 1)).toThrow(/increase/);
    expect(() => w.onSent(6, 0, 1)).toThrow(/bytes > 0/);
    expect(() => new CongestionWindow({ acceptedQueueMs: -1 })).toThrow(/acceptedQueueMs/);
  });

  it("through a link that stalls for 2 s, keeps the link's queue to a window while a sender without it fills it", () => {
    // 10 fps frames of 3 KB (240 kbps) into a 300 kbps link that carries nothing from 2 s to 4 s,
    // 50 ms each way, feedback every 50 ms. Queue = bytes sent and not yet through the bottleneck.
    const run = (useWindow: boolean) => {
      const w = new CongestionWindow();
      const capacity = (t: number) => (t >= 2000 && t < 4000 ? 0 : 300_000);
      const queue: Array<{ seq: number; bytes: number }> = [];
      const arrivals: Array<{ seq: number; atMs: number }> = [];
      let seq = 0;
      let credit = 0;
      let highest = -1;
      let maxQueue = 0;
      let skipped = 0;
      for (let t = 0; t < 6000; t++) {
        if (t % 100 === 0) {
          if (!useWindow || w.admits(300_000, 100, t)) {
            for (let k = 0; k < 3; k++) {
              w.onSent(seq, 1000, t);
              queue.push({ seq: seq++, bytes: 1000 });
            }
          } else skipped++;
        }
        credit += capacity(t) / 8000;
        while (queue.length > 0 && credit >= queue[0]!.bytes) {
          credit -= queue[0]!.bytes;
          arrivals.push({ seq: queue.shift()!.seq, atMs: t + 50 });
        }
        if (queue.length === 0) credit = 0;
        maxQueue = Math.max(maxQueue, queue.reduce((n, p) => n + p.bytes, 0));
        // Every 50 ms the receiver reports what arrived; the report takes 50 ms back.
        if (t % 50 === 0) {
          for (const a of arrivals) if (a.atMs <= t) highest = Math.max(highest, a.seq);
          const h = highest;
          if (h >= 0) setTimeoutLike(t + 50, () => w.onFeedback(h, t + 50));
        }
        runDue(t);
      }
      return { maxQueue, skipped };
    };
    const timers: Array<{ at: number; fn: () => void }> = [];
    const setTimeoutLike = (at: number, fn: () => void) => timers.push({ at, fn });
    const runDue = (t: number) => {
      for (let i = 0; i < timers.length;) {
        if (timers[i]!.at <= t) timers.splice(i, 1)[0]!.fn();
        else i++;
      }
    };
    const withWindow = run(true);
    const without = run(false);
    expect(without.maxQueue).toBeGreaterThanOrEqual(60_000);
    expect(without.skipped).toBe(0);
    expect(withWindow.maxQueue).toBeLessThanOrEqual(9375 + 3000);
    expect(withWindow.skipped).toBeGreaterThanOrEqual(15);
  });
});
