import { describe, expect, it } from "vitest";
import { resilientPolicy } from "../../sfu/media/receive-policy.ts";
import { makeCondition, type NetworkConditionSpec } from "./conditions.ts";
import { frameLatencies, summarize } from "./latency.ts";
import { CongestionWindow } from "../../sfu/media/gcc/congestion-window.ts";
import { ReceiverRate, SenderRate } from "./rate-loop.ts";
import { type FrameSource, simulate } from "./simulate.ts";

/**
 * VP8-shaped frames (RFC 6386 §9.1: bit 0 of the frame tag clear on a key frame) whose size
 * follows the encoder's bitrate, as a rate-controlled encoder's do; a keyframe, three times the
 * size, at the start and at every rate change (the publisher restarts its encoder).
 */
function rateSource(frames: number, fps: number, skips = false): FrameSource & { rates: number[]; skipped: number[] } {
  let rate = 0;
  const rates: number[] = [];
  const skipped: number[] = [];
  return {
    codec: "vp8", fps, frameCount: frames, rates, skipped,
    // A frame dropper: the frame is not encoded, the next is coded from the one before (no keyframe).
    ...(skips ? { skip: (i: number) => Promise.resolve(void skipped.push(i)) } : {}),
    frame(_i, keyframeRequested, bitrateBps = 600_000) {
      const key = bitrateBps !== rate || keyframeRequested;
      rate = bitrateBps;
      rates.push(bitrateBps);
      const bytes = Math.round(((bitrateBps / 8 / fps) * (key ? 3 : 1)));
      const data = new Uint8Array(bytes).fill(0x55);
      data[0] = key ? 0x10 : 0x11;
      return Promise.resolve({ data, keyframe: key });
    },
  };
}

async function run(condition: NetworkConditionSpec, loop: boolean, seconds = 30, window = false) {
  const source = rateSource(seconds * 10, 10, window);
  const rateLoop = loop
    ? { receiver: new ReceiverRate({ maxBps: 1_000_000 }), sender: new SenderRate(1_000_000, (cap) => cap, 500, window ? new CongestionWindow() : null), warmupMs: 10_000, pacingFactor: 2.5 }
    : undefined;
  const r = await simulate({
    source, condition, policy: resilientPolicy(), maxWaitMs: 100, nackRetries: null, seed: 1, pacingBps: 2.5 * 1_000_000, encodeDelayMs: 10,
    ...(rateLoop ? { rateLoop } : {}),
  });
  const lat = summarize(frameLatencies(r.frames).latenciesMs);
  return { r, lat, source };
}

describe("simulate with the rate loop", () => {
  it("a 300 kbps link with a 30-packet queue: the sender's cap follows the link, frames stay fast, and the queue barely drops; at a fixed 1 Mbps it does neither", async () => {
    const condition = makeCondition({ rateBps: 300_000, rttMs: 100, queuePackets: 30 });
    const loop = await run(condition, true);
    const fixed = await run(condition, false);
    const msg = `loop: cap ${loop.r.counters.meanCapKbps} kbps, uplink ${loop.r.counters.uplinkKbps} kbps, p50/p95 ${loop.lat.p50Ms}/${loop.lat.p95Ms} ms, queue drops ${loop.r.counters.uplinkQueueDropped}, REMBs ${loop.r.counters.rembs}; ` +
      `fixed: uplink ${fixed.r.counters.uplinkKbps} kbps, p50/p95 ${fixed.lat.p50Ms}/${fixed.lat.p95Ms} ms, queue drops ${fixed.r.counters.uplinkQueueDropped}`;
    console.log(`[rate-loop] 300 kbps: ${msg}`);
    expect(loop.r.counters.rembs, msg).toBeGreaterThan(20);
    expect(loop.r.counters.meanCapKbps!, msg).toBeLessThan(330);
    expect(loop.r.counters.meanCapKbps!, msg).toBeGreaterThan(150);
    expect(loop.r.counters.uplinkKbps, msg).toBeLessThan(310);
    expect(loop.lat.p95Ms!, msg).toBeLessThan(600);
    expect(fixed.lat.p95Ms!, msg).toBeGreaterThan(2 * loop.lat.p95Ms!);
    expect(loop.r.counters.uplinkQueueDropped, msg).toBeLessThan(fixed.r.counters.uplinkQueueDropped / 5);
    // Frame times stay relative to the clip's first capture, warm-up or not.
    expect(loop.r.frames[0]!.captureMs).toBe(0);
  });

  it("the shipped Verizon EVDO driving trace (capacity moving by 10x): the cap moves with it, and the p95 is a fraction of the fixed sender's", async () => {
    const condition = makeCondition({ trace: "verizon-evdo-driving", rttMs: 100, queuePackets: 30 });
    const loop = await run(condition, true, 60);
    const fixed = await run(condition, false, 60);
    const caps = loop.source.rates;
    const msg = `loop: encoder ${Math.min(...caps)}-${Math.max(...caps)} bps, uplink ${loop.r.counters.uplinkKbps} kbps, p50/p95 ${loop.lat.p50Ms}/${loop.lat.p95Ms} ms, drops ${loop.r.counters.uplinkQueueDropped}; fixed: uplink ${fixed.r.counters.uplinkKbps} kbps, p50/p95 ${fixed.lat.p50Ms}/${fixed.lat.p95Ms} ms, drops ${fixed.r.counters.uplinkQueueDropped}`;
    console.log(`[rate-loop] verizon-evdo-driving: ${msg}`);
    expect(Math.max(...caps) / Math.min(...caps), msg).toBeGreaterThan(2);
    expect(loop.lat.p95Ms!, msg).toBeLessThan(fixed.lat.p95Ms! / 2);
  });

  it("the same trace with the congestion window: frames are held back in the dips, and the p95 and the queue's drops fall below the loop's without it", async () => {
    const condition = makeCondition({ trace: "verizon-evdo-driving", rttMs: 100, queuePackets: 30 });
    const withWindow = await run(condition, true, 60, true);
    const without = await run(condition, true, 60, false);
    const msg = `window: p50/p95 ${withWindow.lat.p50Ms}/${withWindow.lat.p95Ms} ms, drops ${withWindow.r.counters.uplinkQueueDropped}, frames held back ${withWindow.r.counters.framesSkipped}, uplink ${withWindow.r.counters.uplinkKbps} kbps; ` +
      `without: p50/p95 ${without.lat.p50Ms}/${without.lat.p95Ms} ms, drops ${without.r.counters.uplinkQueueDropped}, uplink ${without.r.counters.uplinkKbps} kbps`;
    console.log(`[rate-loop] verizon-evdo-driving, congestion window: ${msg}`);
    expect(withWindow.r.counters.framesSkipped, msg).toBeGreaterThan(0);
    expect(withWindow.source.skipped.length, msg).toBe(withWindow.r.counters.framesSkipped);
    expect(without.r.counters.framesSkipped, msg).toBe(0);
    expect(withWindow.r.frames.length + withWindow.r.counters.framesSkipped).toBe(600);
    expect(withWindow.lat.p95Ms!, msg).toBeLessThan(without.lat.p95Ms!);
    expect(withWindow.r.counters.uplinkQueueDropped, msg).toBeLessThan(without.r.counters.uplinkQueueDropped);
  });
});
