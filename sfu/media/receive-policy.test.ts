import { describe, expect, it } from "vitest";
import type { RtpPacket, RtpVideoCodec } from "../../encoder/rtp/index.ts";
import { JitterBuffer, type JitterOutput } from "./jitter-buffer.ts";
import { classicPolicy, receivePolicyByName, resilientPolicy } from "./receive-policy.ts";
import { makeStream, type TestFrame } from "./test-util.ts";

function merged(outs: JitterOutput[]) {
  return {
    frames: outs.flatMap((o) => o.frames),
    lost: outs.flatMap((o) => o.lost),
    nack: outs.flatMap((o) => o.nack),
    keyframeRequests: outs.filter((o) => o.needKeyframe).length,
  };
}

/** Frame i's packets at t = i * 33 ms, in order, without the packets `skip` picks. */
function feed(jb: JitterBuffer, frames: readonly TestFrame[], skip: (p: RtpPacket, f: TestFrame) => boolean = () => false): JitterOutput[] {
  return frames.flatMap((f) => f.packets.filter((p) => !skip(p, f)).map((p) => jb.push(p, f.index * 33)));
}

describe("resilientPolicy", () => {
  it("frameDeadlineMs: inOrderWaitMs (from the newest packet) while packets arrive in order; reorderWindowMs after the loss became visible", () => {
    const p = resilientPolicy({ reorderWindowMs: 20 });
    // In order: nothing newer has come, so the frame is waited for (default 1 s, or the buffer's cap if longer).
    expect(p.frameDeadlineMs({ firstArrivalMs: 0, lastArrivalMs: 90, lossSuspectedMs: undefined }, 300)).toBe(1090);
    expect(resilientPolicy({ inOrderWaitMs: 100 }).frameDeadlineMs({ firstArrivalMs: 0, lastArrivalMs: 90, lossSuspectedMs: undefined }, 300)).toBe(390);
    expect(() => resilientPolicy({ inOrderWaitMs: -1 })).toThrow(/inOrderWaitMs/);
    expect(p.frameDeadlineMs({ firstArrivalMs: 0, lastArrivalMs: 5, lossSuspectedMs: 40 }, 300)).toBe(60);
    expect(p.frameDeadlineMs({ firstArrivalMs: 0, lastArrivalMs: 5, lossSuspectedMs: 290 }, 300)).toBe(305);
    expect(classicPolicy().frameDeadlineMs({ firstArrivalMs: 10, lastArrivalMs: 20, lossSuspectedMs: 15 }, 100)).toBe(120);
  });

  it("frameDeadlineMs: a paced frame still arriving is not given up, up to 20 x maxWaitMs after its first packet", () => {
    for (const p of [classicPolicy(), resilientPolicy({ inOrderWaitMs: 0 })]) {
      // A 40 KB keyframe paced at 400 kbps: packets keep coming for 0.8 s.
      expect(p.frameDeadlineMs({ firstArrivalMs: 0, lastArrivalMs: 800, lossSuspectedMs: undefined }, 100)).toBe(900);
      expect(p.frameDeadlineMs({ firstArrivalMs: 0, lastArrivalMs: 1950, lossSuspectedMs: undefined }, 100)).toBe(2000);
    }
    // Resilient by default waits inOrderWaitMs, still at most 20 x that after the first packet.
    expect(resilientPolicy().frameDeadlineMs({ firstArrivalMs: 0, lastArrivalMs: 800, lossSuspectedMs: undefined }, 100)).toBe(1800);
    expect(resilientPolicy().frameDeadlineMs({ firstArrivalMs: 0, lastArrivalMs: 19_500, lossSuspectedMs: undefined }, 100)).toBe(20_000);
  });

  it("with FEC: a gap's window counts from the frame's newest packet while its packets still come (its parity trails them); without FEC, from the gap", () => {
    // A keyframe paced over 260 ms: a packet lost 10 ms in, the last media packet at 260 ms.
    const f = { firstArrivalMs: 0, lastArrivalMs: 260, lossSuspectedMs: 10 };
    expect(resilientPolicy({ fec: true }).frameDeadlineMs(f, 100)).toBe(260 + 80);
    expect(resilientPolicy().frameDeadlineMs(f, 100)).toBe(10 + 20);
    // The next frame already started: the parity, sent before it, had its chance.
    expect(resilientPolicy({ fec: true }).frameDeadlineMs({ firstArrivalMs: 0, lastArrivalMs: 30, lossSuspectedMs: 45 }, 100)).toBe(45 + 80);
    // The buffer's cap from the newest packet still holds.
    expect(resilientPolicy({ fec: true, reorderWindowMs: 200 }).frameDeadlineMs(f, 100)).toBe(360);
  });

  it("onLoss: never NACKs; the policy says it wants no retransmissions (no nack in the SDP)", () => {
    const p = resilientPolicy();
    expect(p.onLoss([1, 2, 3], 0).nack).toEqual([]);
    expect(p.retransmissions).toBe(false);
    expect(classicPolicy().retransmissions).toBe(true);
    expect(p.name).toBe("resilient");
  });

  it("options and names: bad values are RangeErrors that name the field", () => {
    expect(() => resilientPolicy({ reorderWindowMs: -1 })).toThrow(/reorderWindowMs/);
    expect(() => resilientPolicy({ keyframeRequestIntervalMs: NaN })).toThrow(/keyframeRequestIntervalMs/);
    expect(receivePolicyByName("classic").name).toBe("classic");
    expect(receivePolicyByName("resilient").name).toBe("resilient");
    expect(() => receivePolicyByName("nack")).toThrow(/"resilient", "classic" or "layered", got "nack"/);
  });
});

for (const codec of ["vp8", "h264"] as RtpVideoCodec[]) {
  describe(`JitterBuffer with the resilient policy (${codec})`, () => {
    it("poll: a frame missing its first packet is given up 20 ms after the gap showed, not 100 ms after it began", () => {
      const frames = makeStream(codec, 3);
      const dropped = frames[2]!.packets[0]!.sequenceNumber;
      const jb = new JitterBuffer({ codec, maxWaitMs: 100, policy: resilientPolicy({ reorderWindowMs: 20 }) });
      const before = merged(feed(jb, frames, (p) => p.sequenceNumber === dropped));
      expect(before.nack).toEqual([]);
      expect(before.frames).toHaveLength(2);
      expect(jb.nextDeadlineMs()).toBe(66 + 20);
      expect(merged([jb.poll(85)]).lost).toEqual([]);
      expect(merged([jb.poll(86)]).lost.map((l) => [l.reason, l.rtpTimestamp, l.declaredMs])).toEqual([["incomplete", frames[2]!.rtpTimestamp, 86]]);
      expect(jb.counters).toMatchObject({ packetsNacked: 0, packetsMissed: 1, framesDroppedAtDeadline: 1, framesLost: 1 });
      const classic = new JitterBuffer({ codec, maxWaitMs: 100, policy: classicPolicy() });
      feed(classic, frames, (p) => p.sequenceNumber === dropped);
      expect(classic.nextDeadlineMs(), "classic waits for the retransmission").toBe(66 + 100);
    });

    it("push: a lost marker packet shows when the next frame starts; that frame is released 20 ms later", () => {
      const frames = makeStream(codec, 5);
      const marker = frames[1]!.packets.at(-1)!.sequenceNumber;
      const jb = new JitterBuffer({ codec, maxWaitMs: 100, policy: resilientPolicy() });
      const out = merged([...feed(jb, frames.slice(0, 3), (p) => p.sequenceNumber === marker), jb.poll(33 * 2 + 20)]);
      expect(out.lost.map((l) => [l.reason, l.missing])).toEqual([["incomplete", [marker]]]);
      expect(out.frames.map((f) => [f.rtpTimestamp, f.releasedMs, f.decodable])).toEqual([
        [frames[0]!.rtpTimestamp, 0, true], [frames[2]!.rtpTimestamp, 86, false],
      ]);
      expect(out.keyframeRequests).toBe(1);
    });

    it("push: a lost marker packet is the previous frame's loss; the next frame, paced in order, is released complete", () => {
      // The benchmark's case: frame 1 loses its last packet; frame 2 opens with a sure frame start
      // and its packets come 5 ms apart for over 60 ms, so it is still arriving when the 20 ms
      // reorder window of frame 1 closes. Only frame 1 had a gap: frame 2 must not be cut short.
      for (const intraOnly of [false, true]) {
        const frames = makeStream(codec, 4, { isKey: (i) => intraOnly || i === 0, frameBytes: (i) => (i === 2 ? 2600 : undefined) });
        const [f0, a, b, f3] = frames as [TestFrame, TestFrame, TestFrame, TestFrame];
        const marker = a.packets.at(-1)!.sequenceNumber;
        const bStartMs = 66;
        const bEndMs = bStartMs + (b.packets.length - 1) * 5;
        expect(bEndMs - bStartMs, "frame 2 is paced over at least 60 ms").toBeGreaterThanOrEqual(60);
        const jb = new JitterBuffer({ codec, maxWaitMs: 100, policy: resilientPolicy({ reorderWindowMs: 20 }) });
        const out = merged([
          ...f0.packets.map((p) => jb.push(p, 0)),
          ...a.packets.filter((p) => p.sequenceNumber !== marker).map((p) => jb.push(p, 33)),
          ...b.packets.map((p, i) => jb.push(p, bStartMs + i * 5)),
          ...f3.packets.map((p) => jb.push(p, bEndMs + 10)),
        ]);
        expect(out.lost.map((l) => [l.reason, l.rtpTimestamp, l.missing, l.declaredMs])).toEqual([["incomplete", a.rtpTimestamp, [marker], bStartMs + 20]]);
        const released = out.frames.find((f) => f.rtpTimestamp === b.rtpTimestamp);
        expect(released, `frame 2 released (lost: ${JSON.stringify(out.lost)})`).toBeDefined();
        expect(Buffer.from(released!.data).equals(Buffer.from(b.data)), "frame 2 byte-exact").toBe(true);
        expect(released!.releasedMs).toBe(bEndMs);
        // A delta frame after a loss cannot be decoded (jitter-buffer.ts); an intra frame can.
        expect(released!.decodable).toBe(intraOnly);
        expect(out.frames.map((f) => f.rtpTimestamp)).toEqual([f0.rtpTimestamp, b.rtpTimestamp, f3.rtpTimestamp]);
        expect(jb.counters).toMatchObject({ framesLost: 1, framesComplete: 3, framesDroppedAtDeadline: 1 });
      }
    });

    it("push: a frame lost whole is declared missing 20 ms after the gap showed; the next frame, paced in order, is released complete", () => {
      const [f0, a, b] = makeStream(codec, 3, { frameBytes: (i) => (i === 2 ? 2600 : undefined) }) as [TestFrame, TestFrame, TestFrame];
      const bEndMs = 66 + (b.packets.length - 1) * 5;
      const jb = new JitterBuffer({ codec, maxWaitMs: 100, policy: resilientPolicy({ reorderWindowMs: 20 }) });
      const outs = [...f0.packets.map((p) => jb.push(p, 0))];
      outs.push(...b.packets.slice(0, 1).map((p) => jb.push(p, 66)));
      expect(jb.nextDeadlineMs(), "the gap's reorder window, not frame 2's").toBe(86);
      outs.push(...b.packets.slice(1).map((p, i) => jb.push(p, 71 + i * 5)));
      const out = merged(outs);
      expect(out.lost.map((l) => [l.reason, l.missing, l.declaredMs])).toEqual([["missing", a.packets.map((p) => p.sequenceNumber), 86]]);
      expect(out.frames.map((f) => [f.rtpTimestamp, f.releasedMs, f.decodable])).toEqual([[f0.rtpTimestamp, 0, true], [b.rtpTimestamp, bEndMs, false]]);
    });

    it("push: a frame whose packets come slowly but in order is not cut short before the cap", () => {
      const [f0, f1] = makeStream(codec, 2);
      const jb = new JitterBuffer({ codec, maxWaitMs: 300, policy: resilientPolicy({ reorderWindowMs: 20 }) });
      const outs = f0!.packets.map((p, i) => jb.push(p, i * 60));
      const released = merged(outs).frames;
      expect(released.map((f) => f.releasedMs)).toEqual([(f0!.packets.length - 1) * 60]);
      expect(merged(f1!.packets.map((p) => jb.push(p, 400))).frames).toHaveLength(1);
      expect(jb.counters.framesLost).toBe(0);
    });

    it("push: a reordered packet within the window completes its frame, marked recovered", () => {
      const frames = makeStream(codec, 3);
      const late = frames[1]!.packets[0]!;
      const jb = new JitterBuffer({ codec, policy: resilientPolicy({ reorderWindowMs: 20 }) });
      feed(jb, frames.slice(0, 2), (p) => p === late);
      const out = merged([jb.push(late, 33 + 10), ...frames[2]!.packets.map((p) => jb.push(p, 66))]);
      expect(out.frames.map((f) => [f.rtpTimestamp, f.recovered])).toEqual([[frames[1]!.rtpTimestamp, true], [frames[2]!.rtpTimestamp, false]]);
      expect(jb.counters).toMatchObject({ packetsMissed: 1, packetsRecovered: 1, framesRecovered: 1, framesLost: 0 });
    });

    it("intra-only stream: a lost frame costs that frame alone; the next one decodes, and no keyframe is asked for", () => {
      const frames = makeStream(codec, 6, { isKey: () => true });
      const jb = new JitterBuffer({ codec, policy: resilientPolicy() });
      const out = merged([...feed(jb, frames, (_, f) => f.index === 2), jb.poll(1000)]);
      expect(out.frames.map((f) => f.decodable)).toEqual([true, true, true, true, true]);
      expect(out.lost.map((l) => l.reason)).toEqual(["missing"]);
      expect(out.keyframeRequests).toBe(0);
      expect(jb.counters).toMatchObject({ framesUndecodable: 0, packetsExpected: frames.reduce((n, f) => n + f.packets.length, 0) });
    });

    it("keyframe requests: not at the loss itself, but at the first frame the loss made undecodable (classic asks at once)", () => {
      const frames = makeStream(codec, 4);
      const lost = frames[1]!.packets[0]!.sequenceNumber;
      const run = (policy: ReturnType<typeof classicPolicy>) => {
        const jb = new JitterBuffer({ codec, maxWaitMs: 100, policy });
        const atLoss = merged([...feed(jb, frames.slice(0, 2), (p) => p.sequenceNumber === lost), jb.poll(200)]);
        const after = merged(frames[2]!.packets.map((p) => jb.push(p, 600)));
        return [atLoss.lost.length, atLoss.keyframeRequests, after.keyframeRequests];
      };
      expect(run(resilientPolicy())).toEqual([1, 0, 1]);
      // Classic asked at 200 ms; at 600 ms the 500 ms rate limit holds the second request back.
      expect(run(classicPolicy())).toEqual([1, 1, 0]);
    });

    it("keyframe requests: rate-limited to one per interval while undecodable frames arrive", () => {
      const frames = makeStream(codec, 90, { isKey: (i) => i === 0 || i === 70 });
      const jb = new JitterBuffer({ codec, maxWaitMs: 100, policy: resilientPolicy({ keyframeRequestIntervalMs: 500 }) });
      const requests: number[] = [];
      for (const f of frames) {
        for (const p of f.packets) if (f.index !== 5 && jb.push(p, f.index * 33).needKeyframe) requests.push(f.index * 33);
      }
      // Frame 5 is missing: seen at frame 6's first packet (198 ms), given up 20 ms later, at the
      // next push (231 ms); then every 500 ms until keyframe 70.
      expect(requests).toEqual([231, 759, 1287, 1815]);
      expect(jb.counters.packetsNacked).toBe(0);
    });
  });
}

describe("JitterBuffer loss counters", () => {
  it("packetsExpected / packetsMissed: a gap counts its packets; a jump past 1000 is a discontinuity, not loss", () => {
    const frames = makeStream("vp8", 6, { isKey: () => true });
    const jb = new JitterBuffer({ codec: "vp8", policy: resilientPolicy() });
    feed(jb, frames.slice(0, 3), (_, f) => f.index === 1);
    const afterGap = jb.counters;
    expect(afterGap.packetsMissed).toBe(frames[1]!.packets.length);
    expect(afterGap.packetsExpected).toBe(frames.slice(0, 3).reduce((n, f) => n + f.packets.length, 0));
    const far = makeStream("vp8", 2, { isKey: () => true, firstSeq: 6000, seed: 9 });
    for (const p of far.flatMap((f) => f.packets)) jb.push(p, 5000);
    expect(jb.counters.packetsMissed, "unchanged by the jump").toBe(afterGap.packetsMissed);
    expect(jb.counters.packetsExpected).toBe(afterGap.packetsExpected + far.reduce((n, f) => n + f.packets.length, 0));
  });
});
