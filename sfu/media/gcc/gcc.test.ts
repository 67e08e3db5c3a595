import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../encoder/synth/prng.ts";
import { absSendTimeBytes, absSendTimeId, AbsSendTimeUnwrapper } from "./abs-send-time.ts";
import { AimdRateController } from "./aimd.ts";
import { DelayBasedEstimator } from "./delay-based.ts";
import { InterArrival } from "./inter-arrival.ts";
import { TrendlineDetector } from "./trendline.ts";

interface Packet {
  sendMs: number;
  arrivalMs: number;
  bytes: number;
}

/**
 * A sender at the estimator's rate through a bottleneck: 30 fps frames of rate / 30 bits in
 * 1200-byte packets, paced at 2.5x the rate (libwebrtc's pacing factor), a FIFO of unbounded size
 * draining at `capacityBps(t)`, 50 ms one-way delay. The estimate reaches the sender at once.
 * Returns per-frame (time, estimate, queueing delay of the frame's last packet).
 */
function runLink(
  est: DelayBasedEstimator,
  capacityBps: (tMs: number) => number,
  seconds: number,
  tweak: (p: Packet[]) => Packet[] = (p) => p,
): { tMs: number; estimateBps: number; queueMs: number }[] {
  const out: { tMs: number; estimateBps: number; queueMs: number }[] = [];
  let linkFreeMs = 0;
  for (let f = 0; f < seconds * 30; f++) {
    const t = (f * 1000) / 30;
    const rate = est.estimateBps;
    const frameBytes = Math.max(200, Math.round(rate / 8 / 30));
    const packets: Packet[] = [];
    let sendMs = t;
    for (let left = frameBytes; left > 0; left -= 1200) {
      const bytes = Math.min(1200, left);
      const start = Math.max(sendMs, linkFreeMs);
      linkFreeMs = start + (bytes * 8 * 1000) / capacityBps(start);
      packets.push({ sendMs, arrivalMs: linkFreeMs + 50, bytes });
      sendMs += (bytes * 8 * 1000) / (2.5 * rate);
    }
    let queueMs = 0;
    for (const p of tweak(packets)) {
      est.onPacket(p.sendMs, p.arrivalMs, p.bytes, 100);
      queueMs = p.arrivalMs - 50 - p.sendMs;
    }
    out.push({ tMs: t, estimateBps: est.estimateBps, queueMs });
  }
  return out;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(0.95 * (s.length - 1))]!;
}

describe("InterArrival", () => {
  it("add, packets 5 ms apart in send time, groups them and reports the delta of each completed group", () => {
    const ia = new InterArrival();
    const out = [];
    for (let i = 0; i < 6; i++) out.push(ia.add(i * 33, i * 33 + 40 + (i >= 3 ? 10 : 0), 1000));
    const deltas = out.filter((d) => d !== null);
    expect(deltas.length).toBe(4);
    // A group's delta is known when the next group starts: the fourth packet (10 ms late) shows in
    // the third delta.
    expect(deltas.map((d) => d!.arrivalDeltaMs - d!.sendDeltaMs)).toEqual([0, 0, 10, 0]);
  });

  it("add, a reordered packet (sent before the current group began), is left out of the timing", () => {
    const ia = new InterArrival();
    ia.add(0, 50, 1000);
    ia.add(33, 83, 1000);
    expect(ia.add(10, 90, 1000)).toBeNull();
    const d = ia.add(66, 116, 1000);
    expect(d).toEqual({ sendDeltaMs: 33, arrivalDeltaMs: 33, arrivalMs: 83, bytes: 1000 });
  });

  it("add, arrival time jumping back or a delta over 3 s, starts the groups afresh", () => {
    const ia = new InterArrival();
    for (let i = 0; i < 4; i++) ia.add(i * 33, i * 33 + 50, 1000);
    expect(ia.add(4 * 33, 4 * 33 + 50 - 60_000, 1000)).toBeNull();
    expect(ia.resets).toBe(1);
    ia.add(5 * 33, 5 * 33 + 50 - 60_000, 1000);
    ia.add(6 * 33, 6 * 33 + 50 - 60_000 + 3_600_000, 1000);
    ia.add(7 * 33, 7 * 33 + 50 - 60_000 + 3_600_000, 1000);
    expect(ia.resets).toBe(2);
  });

  it("add, non-finite times or negative sizes, are ignored", () => {
    const ia = new InterArrival();
    expect(ia.add(Number.NaN, 1, 1)).toBeNull();
    expect(ia.add(1, Number.POSITIVE_INFINITY, 1)).toBeNull();
    expect(ia.add(1, 1, -5)).toBeNull();
    expect(ia.resets).toBe(0);
  });
});

describe("TrendlineDetector", () => {
  function feed(deltaPerGroupMs: number, groups: number): string[] {
    const det = new TrendlineDetector();
    const out: string[] = [];
    for (let i = 1; i <= groups; i++) out.push(det.update({ sendDeltaMs: 33, arrivalDeltaMs: 33 + deltaPerGroupMs, arrivalMs: i * 33, bytes: 1000 }));
    return out;
  }

  it("update, a steady delay, stays normal", () => {
    expect(new Set(feed(0, 200))).toEqual(new Set(["normal"]));
  });

  it("update, a queue growing 3 ms per group, signals over-use within 40 groups", () => {
    // The slope is known once the 20-point window is full; the smoothing lags a few groups more.
    const out = feed(3, 60);
    const first = out.indexOf("overuse");
    expect(first, out.join(",")).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(40);
  });

  it("update, a queue draining 3 ms per group, signals under-use", () => {
    expect(feed(-3, 60)).toContain("underuse");
  });
});

describe("AimdRateController", () => {
  it("update, over-use with 600 kbps received, cuts to 0.85 x 600 kbps (draft §5.5 beta)", () => {
    const c = new AimdRateController({ minBps: 50_000, maxBps: 2_000_000, startBps: 1_000_000 });
    expect(c.update("overuse", 600_000, 0)).toBeCloseTo(510_000, -2);
  });

  it("update, normal for 1 s far from the last over-use, grows by 8% (eta = 1.08)", () => {
    const c = new AimdRateController({ minBps: 50_000, maxBps: 2_000_000, startBps: 500_000 });
    c.update("normal", 500_000, 0);
    expect(c.update("normal", 500_000, 1000)).toBeCloseTo(540_000, -2);
  });

  it("update, a sender using a fifth of the estimate, does not raise it past 1.5 x received + 10 kbps", () => {
    const c = new AimdRateController({ minBps: 50_000, maxBps: 5_000_000, startBps: 100_000 });
    for (let t = 0; t <= 60_000; t += 100) c.update("normal", 20_000, t);
    expect(c.bitrateBps).toBe(100_000);
    const d = new AimdRateController({ minBps: 50_000, maxBps: 5_000_000, startBps: 100_000 });
    for (let t = 0; t <= 60_000; t += 100) d.update("normal", 100_000, t);
    expect(d.bitrateBps).toBeCloseTo(160_000, -3);
  });

  it("update, over-use every 10 ms, cuts at most once per RTT (100 ms)", () => {
    const c = new AimdRateController({ minBps: 10_000, maxBps: 2_000_000, startBps: 1_000_000 });
    for (let t = 0; t < 100; t += 10) c.update("overuse", 900_000, t);
    expect(c.bitrateBps).toBeCloseTo(765_000, -2);
  });

  it("update, the clock jumping an hour forward or back, moves the rate by at most one 8% step", () => {
    const c = new AimdRateController({ minBps: 50_000, maxBps: 5_000_000, startBps: 500_000 });
    c.update("normal", 500_000, 0);
    expect(c.update("normal", 500_000, 3_600_000)).toBeLessThanOrEqual(540_001);
    const before = c.bitrateBps;
    expect(c.update("normal", 500_000, -3_600_000)).toBe(before);
  });

  it("update, no received rate, holds", () => {
    const c = new AimdRateController({ minBps: 50_000, maxBps: 5_000_000, startBps: 500_000 });
    c.update("normal", null, 0);
    expect(c.update("overuse", null, 1000)).toBe(500_000);
    expect(c.update("normal", null, 2000)).toBe(500_000);
  });

  it("constructor, min above max, throws a RangeError naming both", () => {
    expect(() => new AimdRateController({ minBps: 10, maxBps: 5 })).toThrow(/10, 5/);
  });
});

describe("DelayBasedEstimator on a bottleneck", () => {
  const opts = { minBps: 50_000, maxBps: 3_000_000, startBps: 300_000 };

  it("onPacket, a 1 Mbps bottleneck, settles between 0.6 and 1.15 Mbps with the queue under 200 ms (p95)", () => {
    const est = new DelayBasedEstimator(opts);
    const run = runLink(est, () => 1_000_000, 60);
    const tail = run.filter((r) => r.tMs >= 30_000);
    const m = mean(tail.map((r) => r.estimateBps));
    expect(m, `mean estimate ${Math.round(m)} bps`).toBeGreaterThan(600_000);
    expect(m).toBeLessThan(1_150_000);
    const q = p95(tail.map((r) => r.queueMs));
    expect(q, `queue p95 ${q.toFixed(0)} ms`).toBeLessThan(200);
  });

  it("onPacket, capacity falling from 2 Mbps to 300 kbps, follows it down within 2 s and climbs again when it returns", () => {
    const est = new DelayBasedEstimator({ ...opts, startBps: 1_500_000 });
    const cap = (t: number) => (t >= 20_000 && t < 35_000 ? 300_000 : 2_000_000);
    const run = runLink(est, cap, 55);
    const at = (ms: number) => run.find((r) => r.tMs >= ms)!.estimateBps;
    expect(at(19_900), "before the dip").toBeGreaterThan(1_000_000);
    expect(at(22_000), "2 s into the dip").toBeLessThan(450_000);
    // What was sent in the ~0.5 s before the over-use showed queues for seconds at 300 kbps; the
    // cut to 0.85 x the received rate drains it (draft §5.5), so the dip's last 5 s run clear.
    const late = run.filter((r) => r.tMs >= 30_000 && r.tMs < 35_000);
    const q = p95(late.map((r) => r.queueMs));
    expect(q, `queue p95 in the dip's last 5 s ${q.toFixed(0)} ms`).toBeLessThan(100);
    expect(at(45_000), "10 s after the dip").toBeGreaterThan(550_000);
  });

  it("onPacket, every packet twice and groups shuffled, stays on the link's rate (bounded, not collapsed)", () => {
    const clean = runLink(new DelayBasedEstimator(opts), () => 1_000_000, 40);
    const rand = mulberry32(7);
    const messy = runLink(new DelayBasedEstimator(opts), () => 1_000_000, 40, (ps) => {
      const twice = ps.flatMap((p) => [p, p]);
      for (let i = twice.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [twice[i], twice[j]] = [twice[j]!, twice[i]!];
      }
      return twice;
    });
    const tail = (r: typeof clean) => mean(r.filter((x) => x.tMs >= 20_000).map((x) => x.estimateBps));
    expect(tail(messy), `clean ${Math.round(tail(clean))}, messy ${Math.round(tail(messy))}`).toBeGreaterThan(0.6 * tail(clean));
    expect(tail(messy)).toBeLessThanOrEqual(opts.maxBps);
  });

  it("onPacket, one packet held back 30 s and the receiver's clock jumping an hour, moves the estimate by at most one step", () => {
    const est = new DelayBasedEstimator(opts);
    runLink(est, () => 5_000_000, 10);
    const before = est.estimateBps;
    est.onPacket(1000, 40_000, 1200);
    expect(est.estimateBps).toBeGreaterThanOrEqual(0.85 * before);
    // The receiver's clock jumps an hour ahead, then back.
    for (let i = 0; i < 60; i++) est.onPacket(10_000 + i * 33, 3_600_000 + 10_050 + i * 33, 1200);
    const afterJump = est.estimateBps;
    expect(afterJump).toBeGreaterThanOrEqual(0.85 * before);
    expect(afterJump).toBeLessThanOrEqual(Math.min(opts.maxBps, before * 1.08 ** 3));
    for (let i = 0; i < 60; i++) est.onPacket(12_000 + i * 33, 12_050 + i * 33, 1200);
    expect(est.estimateBps).toBeGreaterThanOrEqual(0.85 * before);
    expect(est.snapshot(14_000).resets).toBeGreaterThanOrEqual(2);
  });

  it("onPacket, nothing for 10 s, holds the estimate and has no received rate, then goes on", () => {
    const est = new DelayBasedEstimator(opts);
    const run = runLink(est, () => 1_000_000, 20);
    const before = est.estimateBps;
    const last = run.at(-1)!.tMs;
    expect(est.snapshot(last + 10_000).receivedBps).toBeNull();
    expect(est.estimateBps).toBe(before);
    // Sending resumes 10 s later at a low rate: one step at most.
    for (let i = 0; i < 10; i++) est.onPacket(last + 10_000 + i * 33, last + 10_050 + i * 33, 300);
    expect(est.estimateBps).toBeGreaterThanOrEqual(0.85 * before);
    expect(est.estimateBps).toBeLessThanOrEqual(before * 1.08);
  });

  it("onPacket, non-finite or negative input, changes nothing", () => {
    const est = new DelayBasedEstimator(opts);
    est.onPacket(Number.NaN, 0, 1000);
    est.onPacket(0, Number.NEGATIVE_INFINITY, 1000);
    est.onPacket(0, 0, -1);
    est.onPacket(0, 0, Number.POSITIVE_INFINITY);
    expect(est.snapshot(0)).toMatchObject({ estimateBps: 300_000, receivedBps: null, resets: 0 });
  });
});

describe("AbsSendTimeUnwrapper", () => {
  it("unwrapMs, values across the 64 s wrap and one reordered from before it, gives one increasing line", () => {
    const u = new AbsSendTimeUnwrapper();
    const unit = 1000 / (1 << 18);
    const near = (1 << 24) - 1000;
    expect(u.unwrapMs(near)).toBeCloseTo(near * unit, 6);
    expect(u.unwrapMs(500)).toBeCloseTo(((1 << 24) + 500) * unit, 6);
    expect(u.unwrapMs(near + 10)).toBeCloseTo((near + 10) * unit, 6);
    expect(u.unwrapMs(900)).toBeCloseTo(((1 << 24) + 900) * unit, 6);
  });

  it("unwrapMs, a value that is not a 24-bit integer, gives null", () => {
    const u = new AbsSendTimeUnwrapper();
    expect(u.unwrapMs(-1)).toBeNull();
    expect(u.unwrapMs(1 << 24)).toBeNull();
    expect(u.unwrapMs(1.5)).toBeNull();
  });
});

describe("abs-send-time on the wire", () => {
  it("absSendTimeBytes, read back through the unwrapper over two 64 s wraps, gives the send times' differences to 4 us", () => {
    const u = new AbsSendTimeUnwrapper();
    // Steps under half the 64 s range are what the unwrapper can follow.
    const times = [1_000_000.25, 1_000_033.5, 1_020_066.75, 1_045_999.9, 1_070_100, 1_095_000.5, 1_120_000];
    const read = times.map((t) => u.unwrapMs(absSendTimeBytes(t).readUIntBE(0, 3))!);
    for (let i = 1; i < times.length; i++) expect(read[i]! - read[0]!).toBeCloseTo(times[i]! - times[0]!, 2);
  });

  it("absSendTimeId, an answer with and without the extension, finds its id or null", () => {
    expect(absSendTimeId("v=0\r\na=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n")).toBe(3);
    expect(absSendTimeId("v=0\r\na=extmap:2/sendrecv http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n")).toBe(2);
    expect(absSendTimeId("v=0\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n")).toBeNull();
  });
});
