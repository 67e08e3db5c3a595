import { describe, expect, it } from "vitest";
import type { RtpPacket, RtpVideoCodec } from "../../encoder/rtp/index.ts";
import { JitterBuffer, type JitterOutput } from "./jitter-buffer.ts";
import { classicPolicy } from "./receive-policy.ts";
import { makeStream, shuffled, type TestFrame } from "./test-util.ts";

/** Pushes packets at the given times and gathers every output. */
function feed(jb: JitterBuffer, items: Array<{ p: RtpPacket; t: number }>): JitterOutput[] {
  return items.map(({ p, t }) => jb.push(p, t));
}

function merged(outs: JitterOutput[]) {
  return {
    frames: outs.flatMap((o) => o.frames),
    lost: outs.flatMap((o) => o.lost),
    late: outs.flatMap((o) => o.late),
    nack: outs.flatMap((o) => o.nack),
    keyframeRequests: outs.filter((o) => o.needKeyframe).length,
  };
}

/** Frame i's packets at t = i * 33 ms, in order. */
function timed(frames: readonly TestFrame[], skip: (p: RtpPacket, f: TestFrame) => boolean = () => false) {
  return frames.flatMap((f) => f.packets.filter((p) => !skip(p, f)).map((p) => ({ p, t: f.index * 33 })));
}

for (const codec of ["vp8", "h264"] as RtpVideoCodec[]) {
  describe(`JitterBuffer (${codec})`, () => {
    it("push: in-order packets release each frame once complete, byte-exact and decodable", () => {
      const frames = makeStream(codec, 6);
      const jb = new JitterBuffer({ codec });
      const out = merged(feed(jb, timed(frames)));
      expect(out.frames.map((f) => f.rtpTimestamp)).toEqual(frames.map((f) => f.rtpTimestamp));
      out.frames.forEach((f, i) => {
        expect(Buffer.from(f.data).equals(Buffer.from(frames[i]!.data)), `frame ${i} bytes`).toBe(true);
        expect(f.decodable).toBe(true);
        expect(f.keyframe).toBe(i === 0);
      });
      expect(out.lost).toEqual([]);
      const c = jb.counters;
      expect(c.framesComplete).toBe(6);
      expect(c.packetsReceived).toBe(frames.reduce((n, f) => n + f.packets.length, 0));
      expect(c.bytesReceived).toBeGreaterThan(frames.reduce((n, f) => n + f.data.length, 0));
    });

    it("push: packets reordered across frames come out in decode order with no loss", () => {
      const frames = makeStream(codec, 8);
      const jb = new JitterBuffer({ codec });
      const first = shuffled(frames[0]!.packets, 3).map((p) => ({ p, t: 0 }));
      const rest = shuffled(frames.slice(1).flatMap((f) => f.packets), 4).map((p, i) => ({ p, t: 1 + i }));
      const out = merged(feed(jb, [...first, ...rest]));
      expect(out.frames.map((f) => f.rtpTimestamp)).toEqual(frames.map((f) => f.rtpTimestamp));
      expect(out.lost).toEqual([]);
      expect(out.nack.length, "reordering looks like loss to the gap detector, NACKs sent").toBeGreaterThan(0);
    });

    it("push: a stream whose first frame completes as a delta frame waits for earlier frames until its deadline", () => {
      const frames = makeStream(codec, 3);
      const jb = new JitterBuffer({ codec, maxWaitMs: 100 });
      const early = merged(feed(jb, frames[1]!.packets.map((p) => ({ p, t: 0 }))));
      expect(early.frames).toEqual([]);
      const out = merged(feed(jb, [...frames[0]!.packets, ...frames[2]!.packets].map((p) => ({ p, t: 10 }))));
      expect(out.frames.map((f) => f.rtpTimestamp)).toEqual(frames.map((f) => f.rtpTimestamp));
    });

    it("push: duplicated packets are counted and dropped", () => {
      const frames = makeStream(codec, 4);
      const jb = new JitterBuffer({ codec });
      const items = timed(frames).flatMap((x) => [x, x]);
      const out = merged(feed(jb, items));
      expect(out.frames).toHaveLength(4);
      expect(jb.counters.packetsDuplicate).toBe(items.length / 2);
      expect(jb.counters.packetsReceived).toBe(items.length);
    });

    it("push: sequence numbers wrapping 65535 -> 0 inside and between frames, shuffled", () => {
      const frames = makeStream(codec, 6, { firstSeq: 65_530 });
      expect(frames.some((f) => f.packets.some((p) => p.sequenceNumber === 65_535))).toBe(true);
      const jb = new JitterBuffer({ codec });
      const items = frames.flatMap((f) => shuffled(f.packets, f.index).map((p) => ({ p, t: f.index * 33 })));
      const out = merged(feed(jb, items));
      expect(out.frames.map((f) => f.rtpTimestamp)).toEqual(frames.map((f) => f.rtpTimestamp));
      expect(out.lost).toEqual([]);
      // Reordering looks like loss to the gap detector: whatever was NACKed did arrive.
      const sent = new Set(frames.flatMap((f) => f.packets.map((p) => p.sequenceNumber)));
      expect(out.nack.every((s) => sent.has(s))).toBe(true);
    });

    it("poll: an incomplete frame is declared lost exactly maxWaitMs after its first packet; later frames follow", () => {
      const frames = makeStream(codec, 6);
      const dropped = frames[2]!.packets[1]!.sequenceNumber;
      const jb = new JitterBuffer({ codec, maxWaitMs: 100 });
      const before = merged(feed(jb, timed(frames, (p) => p.sequenceNumber === dropped)));
      expect(before.frames.map((f) => f.rtpTimestamp)).toEqual([frames[0]!.rtpTimestamp, frames[1]!.rtpTimestamp]);
      expect(before.nack).toEqual([dropped]);
      expect(jb.nextDeadlineMs()).toBe(66 + 100);
      expect(merged([jb.poll(165)]).lost).toEqual([]);
      const at = merged([jb.poll(166)]);
      expect(at.lost).toEqual([{ rtpTimestamp: frames[2]!.rtpTimestamp, reason: "incomplete", missing: [dropped], declaredMs: 166 }]);
      expect(at.frames.map((f) => f.rtpTimestamp)).toEqual(frames.slice(3).map((f) => f.rtpTimestamp));
      expect(at.frames.every((f) => !f.decodable), "delta frames after a loss are not decodable").toBe(true);
      expect(at.keyframeRequests).toBe(1);
      expect(jb.counters.framesLost).toBe(1);
      expect(jb.counters.framesUndecodable).toBe(3);
    });

    it("poll: a frame whose packets all vanished is reported missing with its sequence numbers", () => {
      const frames = makeStream(codec, 5);
      const jb = new JitterBuffer({ codec, maxWaitMs: 100 });
      feed(jb, timed(frames, (_, f) => f.index === 2));
      const out = merged([jb.poll(99 + 100)]);
      expect(out.lost).toHaveLength(1);
      expect(out.lost[0]!.reason).toBe("missing");
      expect(out.lost[0]!.rtpTimestamp).toBeUndefined();
      expect(out.lost[0]!.missing).toEqual(frames[2]!.packets.map((p) => p.sequenceNumber));
      expect(out.frames.map((f) => f.rtpTimestamp)).toEqual([frames[3]!.rtpTimestamp, frames[4]!.rtpTimestamp]);
    });

    it("poll: a lost marker packet is attributed to its frame when the next frame has started", () => {
      const frames = makeStream(codec, 4);
      const marker = frames[1]!.packets.at(-1)!.sequenceNumber;
      const jb = new JitterBuffer({ codec, maxWaitMs: 50 });
      const out = merged([...feed(jb, timed(frames, (p) => p.sequenceNumber === marker)), jb.poll(200)]);
      expect(out.lost.map((l) => [l.reason, l.missing])).toEqual([["incomplete", [marker]]]);
      expect(out.frames.map((f) => [f.rtpTimestamp, f.decodable])).toEqual([
        [frames[0]!.rtpTimestamp, true], [frames[2]!.rtpTimestamp, false], [frames[3]!.rtpTimestamp, false],
      ]);
    });

    it("push: a retransmission before the deadline completes the frame; each gap is NACKed once", () => {
      const frames = makeStream(codec, 5);
      const lostSeq = frames[1]!.packets[0]!.sequenceNumber;
      const jb = new JitterBuffer({ codec, policy: classicPolicy(), maxWaitMs: 100 });
      const items = timed(frames, (p) => p.sequenceNumber === lostSeq);
      const out = merged(feed(jb, items));
      expect(out.nack).toEqual([lostSeq]);
      const retransmit = frames[1]!.packets[0]!;
      const after = merged(feed(jb, [{ p: retransmit, t: 120 }]));
      expect(after.frames.map((f) => f.rtpTimestamp)).toEqual(frames.slice(1).map((f) => f.rtpTimestamp));
      expect(after.frames.every((f) => f.decodable)).toBe(true);
      expect(after.nack).toEqual([]);
      expect(jb.counters.framesLost).toBe(0);
      expect(jb.counters.packetsNacked).toBe(1);
    });

    it("push: missing packets arriving after the deadline move the frame from lost to late", () => {
      const frames = makeStream(codec, 4);
      const lostSeq = frames[1]!.packets[1]!.sequenceNumber;
      const jb = new JitterBuffer({ codec, maxWaitMs: 100 });
      feed(jb, timed(frames, (p) => p.sequenceNumber === lostSeq));
      expect(merged([jb.poll(200)]).lost).toHaveLength(1);
      expect(jb.counters.framesLost).toBe(1);
      const out = merged(feed(jb, [{ p: frames[1]!.packets[1]!, t: 250 }]));
      expect(out.late).toEqual([{ rtpTimestamp: frames[1]!.rtpTimestamp, completedMs: 250, lateByMs: 50 }]);
      expect(out.frames).toEqual([]);
      expect(jb.counters).toMatchObject({ framesLost: 0, framesLate: 1, packetsLate: 1 });
    });

    it("keyframe requests: at most one per interval while delta frames arrive, none after a keyframe", () => {
      const frames = makeStream(codec, 90, { isKey: (i) => i === 0 || i === 70 });
      const jb = new JitterBuffer({ codec, maxWaitMs: 100, policy: classicPolicy({ keyframeRequestIntervalMs: 500 }) });
      const requests: number[] = [];
      for (const { p, t } of timed(frames, (_, f) => f.index === 5)) {
        if (jb.push(p, t).needKeyframe) requests.push(t);
      }
      // Frame 5 is missing; the gap is declared when a packet arrives after frame 6's deadline (298 ms).
      // Then again on the first push at least 500 ms later while undecodable deltas keep coming;
      // frame 70 is a keyframe, after which nothing is requested.
      expect(requests).toEqual([330, 858, 1386, 1914]);
      expect(jb.counters.keyframeRequests).toBe(requests.length);
      expect(jb.counters.framesUndecodable).toBe(70 - 6);
      expect(jb.counters.framesComplete).toBe(89);
    });

    it("malformed: packets of one timestamp that do not form a frame are dropped as malformed", () => {
      const [f0, f1] = makeStream(codec, 2);
      const jb = new JitterBuffer({ codec });
      feed(jb, f0!.packets.map((p) => ({ p, t: 0 })));
      // Frame 1 with the marker moved to its first packet, sent last: the assembler refuses it.
      const bad = f1!.packets.map((p, i) => ({ ...p, marker: i === 0 })).reverse();
      const out = merged(feed(jb, bad.map((p) => ({ p, t: 40 }))));
      expect(out.lost.map((l) => l.reason)).toEqual(["malformed"]);
      expect(out.lost[0]!.detail).toMatch(/marker/);
    });
  });
}

describe("classicPolicy", () => {
  it("onLoss: NACKs each sequence number once and skips runs longer than maxNackRun", () => {
    const p = classicPolicy({ maxNackRun: 3 });
    expect(p.onLoss([1, 2], 0).nack).toEqual([1, 2]);
    expect(p.onLoss([2, 3], 1).nack).toEqual([3]);
    expect(p.onLoss([10, 11, 12, 13], 2).nack).toEqual([]);
    expect(p.keyframeRequestIntervalMs).toBe(500);
  });
});
