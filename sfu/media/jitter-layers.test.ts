import { describe, expect, it } from "vitest";
import type { RtpPacket } from "../../encoder/rtp/index.ts";
import { JitterBuffer, type JitterOutput } from "./jitter-buffer.ts";
import { classicPolicy, layeredPolicy } from "./receive-policy.ts";
import { makeLayeredVp8Stream, makeStream } from "./test-util.ts";

/**
 * Temporal layers (VP8 L1T3 as Chromium sends it): a lost upper-layer frame costs only the frames
 * that reference it, and no keyframe; a lost base frame still breaks the chain.
 */
function run(jb: JitterBuffer, frames: ReadonlyArray<{ index: number; packets: RtpPacket[] }>, drop: (index: number, packetIndex: number) => boolean, endMs = 2000) {
  const outs: JitterOutput[] = [];
  for (const f of frames) {
    f.packets.forEach((p, k) => {
      if (!drop(f.index, k)) outs.push(jb.push(p, f.index * 33 + k));
    });
  }
  for (let t = frames.length * 33; t <= endMs; t += 5) outs.push(jb.poll(t));
  const released = outs.flatMap((o) => o.frames);
  return {
    decodable: released.filter((f) => f.decodable).map((f) => f.rtpTimestamp / 3000),
    undecodable: released.filter((f) => !f.decodable).map((f) => f.rtpTimestamp / 3000),
    lost: outs.flatMap((o) => o.lost).map((l) => (l.rtpTimestamp === undefined ? -1 : l.rtpTimestamp / 3000)),
    keyframeRequests: outs.filter((o) => o.needKeyframe).length,
    releasedMs: new Map(released.map((f) => [f.rtpTimestamp / 3000, f.releasedMs])),
  };
}

describe("JitterBuffer with VP8 temporal layers", () => {
  const frames = makeLayeredVp8Stream(12);

  it("the stream as sent: TIDs 0 2 1 2, TL0PICIDX one per base frame, all decodable", () => {
    expect(frames.map((f) => f.tid)).toEqual([0, 2, 1, 2, 0, 2, 1, 2, 0, 2, 1, 2]);
    const r = run(new JitterBuffer({ codec: "vp8", policy: layeredPolicy() }), frames, () => false);
    expect(r.decodable).toEqual(frames.map((f) => f.index));
    expect(r.keyframeRequests).toBe(0);
  });

  it("a lost TID 2 frame costs that frame only: the rest decodes and no keyframe is asked for", () => {
    const r = run(new JitterBuffer({ codec: "vp8", policy: layeredPolicy() }), frames, (i, k) => i === 3 && k === 1);
    expect(r.lost).toEqual([3]);
    expect(r.decodable).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(r.keyframeRequests).toBe(0);
  });

  it("a lost TID 1 frame costs the TID 2 frame that references it, until the layers resync", () => {
    const r = run(new JitterBuffer({ codec: "vp8", policy: layeredPolicy() }), frames, (i, k) => i === 2 && k === 0);
    expect(r.lost).toEqual([2]);
    expect(r.undecodable).toEqual([3]);
    expect(r.decodable).toEqual([0, 1, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(r.keyframeRequests).toBe(0);
  });

  it("a lost base frame breaks the chain: every later frame is undecodable and a keyframe is asked for", () => {
    const r = run(new JitterBuffer({ codec: "vp8", policy: layeredPolicy() }), frames, (i, k) => i === 4 && k === 0);
    expect(r.decodable).toEqual([0, 1, 2, 3]);
    expect(r.undecodable).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(r.keyframeRequests).toBeGreaterThan(0);
  });

  it("a base frame lost whole (its layer unknown) shows in the next frames' TL0PICIDX: the chain is broken", () => {
    const r = run(new JitterBuffer({ codec: "vp8", policy: layeredPolicy() }), frames, (i) => i === 4);
    expect(r.decodable).toEqual([0, 1, 2, 3]);
    expect(r.keyframeRequests).toBeGreaterThan(0);
  });

  it("a TID 2 frame lost whole breaks no base frame: the next base frame and the layers after their syncs decode", () => {
    const r = run(new JitterBuffer({ codec: "vp8", policy: layeredPolicy() }), frames, (i) => i === 7);
    expect(r.decodable).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11]);
    expect(r.keyframeRequests).toBe(0);
  });

  it("layered gives up an upper-layer frame a reorder window after its gap; classic waits the whole frame wait for it", () => {
    const lose = (i: number, k: number) => i === 3 && k === 1;
    const layered = run(new JitterBuffer({ codec: "vp8", policy: layeredPolicy(), maxWaitMs: 300 }), frames, lose);
    const classic = run(new JitterBuffer({ codec: "vp8", policy: classicPolicy(), maxWaitMs: 300 }), frames, lose);
    // Frame 4 (the next base frame) is complete at 4 * 33 + its packets; layered hands it on ~20 ms
    // after the gap showed, classic only once frame 3 is given up, 300 ms after its newest packet.
    expect(layered.releasedMs.get(4)!).toBeLessThan(4 * 33 + 40);
    expect(classic.releasedMs.get(4)!).toBeGreaterThan(3 * 33 + 300);
    // The buffer reads the layers under any policy: classic loses no more frames, it only waits.
    expect(classic.keyframeRequests).toBe(0);
    expect(classic.decodable).toEqual(layered.decodable);
  });

  it("a base-layer frame under layered waits for its retransmission as classic does", () => {
    const lose = (i: number, k: number) => i === 4 && k === 1;
    const jb = new JitterBuffer({ codec: "vp8", policy: layeredPolicy(), maxWaitMs: 300 });
    const outs: JitterOutput[] = [];
    for (const f of frames) f.packets.forEach((p, k) => { if (!lose(f.index, k)) outs.push(jb.push(p, f.index * 33 + k)); });
    const nacked = outs.flatMap((o) => o.nack);
    expect(nacked).toEqual([frames[4]!.packets[1]!.sequenceNumber]);
    outs.push(jb.push(frames[4]!.packets[1]!, 12 * 33 + 100)); // the retransmission, a round trip later
    const released = outs.flatMap((o) => o.frames);
    expect(released.filter((f) => f.decodable).map((f) => f.rtpTimestamp / 3000)).toEqual(frames.map((f) => f.index));
  });

  it("a stream without temporal layers under layered is classic: one loss needs a keyframe", () => {
    const plain = makeStream("vp8", 6);
    const r = run(new JitterBuffer({ codec: "vp8", policy: layeredPolicy() }), plain, (i, k) => i === 2 && k === 0);
    expect(r.keyframeRequests).toBeGreaterThan(0);
    expect(r.undecodable.length).toBeGreaterThan(0);
  });
});
