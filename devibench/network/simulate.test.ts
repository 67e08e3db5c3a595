import { describe, expect, it } from "vitest";
import { PlayoutTiming } from "../../sfu/media/playout-timing.ts";
import { classicPolicy, resilientPolicy } from "../../sfu/media/receive-policy.ts";
import { makeCondition } from "./conditions.ts";
import { frameLatencies } from "./latency.ts";
import { type FrameSource, simulate } from "./simulate.ts";

/** VP8-shaped frames (RFC 6386 §9.1 frame tag: bit 0 clear on a key frame) of a fixed size. */
function fakeSource(frames: number, fps: number, bytes: number, intraOnly: boolean): FrameSource & { requests: number[] } {
  const requests: number[] = [];
  let keyNext = true;
  return {
    codec: "vp8", fps, frameCount: frames, requests,
    frame(i, keyframeRequested) {
      if (keyframeRequested) requests.push(i);
      const key = intraOnly || keyNext || keyframeRequested;
      keyNext = false;
      const data = new Uint8Array(bytes).fill(0x55);
      data[0] = key ? 0x10 : 0x11;
      return Promise.resolve({ data, keyframe: key });
    },
  };
}

describe("simulate", () => {
  it("a clean link: every frame decodable, latency = pacing + one-way delay", async () => {
    const r = await simulate({
      source: fakeSource(30, 10, 1000, false), condition: makeCondition({ rttMs: 100 }), policy: classicPolicy(),
      maxWaitMs: 300, nackRetries: { intervalMs: 100, maxRetries: 10 }, seed: 1, pacingBps: 1_000_000, encodeDelayMs: 10,
    });
    expect(r.frames.every((f) => f.fate === "decodable")).toBe(true);
    const lat = frameLatencies(r.frames).latenciesMs;
    // One packet of ~1050 B at 1 Mbps (8.4 ms) + 10 ms encode + 50 ms + 20 Mbps serialisation.
    for (const v of lat) expect(v).toBeGreaterThan(60);
    for (const v of lat) expect(v).toBeLessThan(75);
    expect(r.counters.retransmissions).toBe(0);
  });

  it("10% loss, classic: retransmissions recover the frames, at the cost of about a round trip", async () => {
    const r = await simulate({
      source: fakeSource(100, 10, 4000, false), condition: makeCondition({ rttMs: 100, loss: 0.1 }), policy: classicPolicy(),
      maxWaitMs: 300, nackRetries: { intervalMs: 100, maxRetries: 10 }, seed: 3, pacingBps: 1_000_000, encodeDelayMs: 0,
    });
    expect(r.counters.retransmissions).toBeGreaterThan(0);
    expect(r.counters.jitter.framesRecovered).toBeGreaterThan(0);
    const decodable = r.frames.filter((f) => f.fate === "decodable").length;
    expect(decodable, `decodable ${decodable} of 100`).toBeGreaterThan(90);
  });

  it("10% loss, classic with WebRTC's playout timing: frames are handed on in order, no earlier than complete, and later than without it", async () => {
    const base = {
      condition: makeCondition({ rttMs: 100, loss: 0.1 }), policy: classicPolicy(), maxWaitMs: 300,
      nackRetries: { intervalMs: 100, maxRetries: 10 }, seed: 3, pacingBps: 1_000_000, encodeDelayMs: 0,
    };
    const plain = await simulate({ ...base, source: fakeSource(100, 10, 4000, false), policy: classicPolicy() });
    const timed = await simulate({ ...base, source: fakeSource(100, 10, 4000, false), policy: classicPolicy(), playout: { timing: new PlayoutTiming(), rttMs: 100 } });
    const at = timed.decodable.map((d) => d.releasedMs);
    for (let i = 1; i < at.length; i++) expect(at[i]!).toBeGreaterThanOrEqual(at[i - 1]!);
    plain.frames.forEach((f, i) => {
      const g = timed.frames[i]!;
      expect(g.fate).toBe(f.fate);
      if (f.availableMs !== null) expect(g.availableMs!).toBeGreaterThanOrEqual(f.availableMs);
    });
    const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    // Once NACKs are in use, libwebrtc adds the round trip to every frame's delay.
    expect(p50(frameLatencies(timed.frames).latenciesMs)).toBeGreaterThan(p50(frameLatencies(plain.frames).latenciesMs) + 50);
  });

  it("10% loss, resilient with intra-only frames: no retransmission, a lost frame is covered by the next one", async () => {
    const r = await simulate({
      source: fakeSource(100, 10, 4000, true), condition: makeCondition({ rttMs: 100, loss: 0.1 }), policy: resilientPolicy(),
      maxWaitMs: 100, nackRetries: null, seed: 3, pacingBps: 1_000_000, encodeDelayMs: 0,
    });
    expect(r.counters.retransmissions).toBe(0);
    expect(r.counters.plis).toBe(0);
    const lost = r.frames.filter((f) => f.fate !== "decodable").length;
    expect(lost).toBeGreaterThan(0);
    const lat = frameLatencies(r.frames);
    expect(lat.waitedForNext).toBeGreaterThan(0);
  });

  it("the same seed gives the same run", async () => {
    const run = () => simulate({
      source: fakeSource(50, 10, 3000, false), condition: makeCondition({ rttMs: 100, loss: 0.05 }), policy: classicPolicy(),
      maxWaitMs: 300, nackRetries: { intervalMs: 100, maxRetries: 10 }, seed: 9, pacingBps: 1_000_000, encodeDelayMs: 5,
    });
    const a = await run();
    const b = await run();
    expect(a.frames.map((f) => f.availableMs)).toEqual(b.frames.map((f) => f.availableMs));
  });
});
