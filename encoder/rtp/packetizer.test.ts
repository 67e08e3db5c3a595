import { describe, expect, it } from "vitest";
import { RtpPacket as WeriftRtpPacket, dePacketizeRtpPackets } from "werift";
import { joinAnnexB, splitAnnexB } from "./h264.ts";
import { type RtpPacket, parseRtp, serializeRtp } from "./packet.ts";
import { FrameAssembler, RtpPacketizer } from "./packetizer.ts";
import { expectEncoderError, expectSameBytes, mulberry32, randomBytes } from "./test-util.ts";

function shuffle<T>(rand: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Serialize and parse back, as the packets would be after a trip over the network. */
function overWire(packets: RtpPacket[]): RtpPacket[] {
  return packets.map((p) => parseRtp(serializeRtp(p)));
}

const vp8 = (initialSequenceNumber: number, extra: Partial<ConstructorParameters<typeof RtpPacketizer>[0]> = {}) =>
  new RtpPacketizer({ codec: "vp8", ssrc: 0xabcdef01, payloadType: 96, initialSequenceNumber, mtu: 1000, ...extra });

describe("RtpPacketizer", () => {
  it("packetizeFrame, frame over several packets, numbers them consecutively with one timestamp and marker on the last", () => {
    const packets = vp8(10).packetizeFrame(new Uint8Array(3500), { rtpTimestamp: 123456 });
    expect(packets.map((p) => p.sequenceNumber)).toEqual([10, 11, 12, 13]);
    expect(packets.map((p) => p.marker)).toEqual([false, false, false, true]);
    expect(new Set(packets.map((p) => p.timestamp))).toEqual(new Set([123456]));
    expect(packets.every((p) => p.ssrc === 0xabcdef01 && p.payloadType === 96)).toBe(true);
    for (const p of packets) expect(serializeRtp(p).length).toBeLessThanOrEqual(1000 + 12);
  });

  it("packetizeFrame, sequence numbers near 65535, wrap to 0 inside and across frames", () => {
    const packetizer = vp8(65533);
    const a = packetizer.packetizeFrame(new Uint8Array(2500), { rtpTimestamp: 0 });
    const b = packetizer.packetizeFrame(new Uint8Array(1500), { rtpTimestamp: 3000 });
    expect(a.map((p) => p.sequenceNumber)).toEqual([65533, 65534, 65535]);
    expect(b.map((p) => p.sequenceNumber)).toEqual([0, 1]);
    expect(packetizer.nextSequenceNumber).toBe(2);
  });

  it("packetizeFrame, time in milliseconds, counts 90 ticks per ms from initialTimestamp and wraps at 2^32", () => {
    const packetizer = vp8(0, { initialTimestamp: 0xffffff00 });
    expect(packetizer.packetizeFrame(new Uint8Array(1), { timestampMs: 0 })[0]!.timestamp).toBe(0xffffff00);
    expect(packetizer.packetizeFrame(new Uint8Array(1), { timestampMs: 33.3 })[0]!.timestamp).toBe((0xffffff00 + 2997) % 2 ** 32);
    expect(packetizer.rtpTimestampFor(1000)).toBe((0xffffff00 + 90000) % 2 ** 32);
  });

  it("packetizeFrame, VP8 with initialPictureId, puts it on each frame and counts up modulo 2^15", () => {
    const packetizer = vp8(0, { initialPictureId: 0x7ffe });
    const ids = [0, 1, 2].map((i) => {
      const [first] = overWire(packetizer.packetizeFrame(new Uint8Array([0, 1, 2]), { rtpTimestamp: i }));
      return new FrameAssembler("vp8").assemble([first!]);
    });
    expect(ids.map((r) => (r.complete ? r.pictureId : "incomplete"))).toEqual([0x7ffe, 0x7fff, 0]);
  });

  it("packetizeFrame, frame that cannot be packetized, throws and leaves the sequence number alone", () => {
    const packetizer = vp8(500);
    expectEncoderError(() => packetizer.packetizeFrame(new Uint8Array(0), { rtpTimestamp: 0 }), "RTP_MALFORMED", /empty/);
    expect(packetizer.nextSequenceNumber).toBe(500);
  });

  it("constructor, out-of-range ssrc, payload type or sequence number, throws INVALID_OPTION", () => {
    expectEncoderError(() => vp8(65536), "INVALID_OPTION", /initialSequenceNumber/);
    expectEncoderError(() => vp8(0, { payloadType: 200 }), "INVALID_OPTION", /payloadType/);
    expectEncoderError(() => vp8(0, { ssrc: -1 }), "INVALID_OPTION", /ssrc/);
  });

  it("packetizeFrame, H.264 access unit, gives packets werift depacketizes to the same bytes", () => {
    const packetizer = new RtpPacketizer({ codec: "h264", ssrc: 1, payloadType: 102, initialSequenceNumber: 65530 });
    const au = joinAnnexB([new Uint8Array([0x67, 1, 2]), new Uint8Array([0x68, 3]), new Uint8Array(5000).fill(0xaa).fill(0x65, 0, 1)]);
    const packets = packetizer.packetizeFrame(au, { timestampMs: 40 });
    // SPS and PPS share one STAP-A (RFC 6184 §5.7.1); the IDR slice is 5 FU-A fragments; marker on the last.
    expect(packets.map((p) => p.sequenceNumber)).toEqual([65530, 65531, 65532, 65533, 65534, 65535]);
    expect(packets.map((p) => p.payload[0]! & 0x1f)).toEqual([24, 28, 28, 28, 28, 28]);
    expect(packets.map((p) => p.marker)).toEqual([false, false, false, false, false, true]);
    const w = dePacketizeRtpPackets("MPEG4/ISO/AVC", packets.map((p) => WeriftRtpPacket.deSerialize(Buffer.from(serializeRtp(p)))));
    expectSameBytes(w.data, au);
    expect(w.isKeyframe).toBe(true);
  });
});

describe("RtpPacketizer H.264 aggregation round trip", () => {
  it("packetizeFrame, access units with STAP-A, FU-A and single NAL packets, give the same Annex B through FrameAssembler and werift", () => {
    const rand = mulberry32(7);
    const packetizer = new RtpPacketizer({ codec: "h264", ssrc: 9, payloadType: 102, initialSequenceNumber: 65520, mtu: 300 });
    // No zero bytes, so no start code inside; NRI 3, first_mb_in_slice 0.
    const nal = (type: number, size: number) => randomBytes(rand, size).map((b) => b | 1).fill(0x60 | type, 0, 1).fill(0x80, 1, 2);
    const units = [
      [nal(7, 12), nal(8, 4), nal(5, 100)], // one STAP-A
      [nal(7, 12), nal(8, 4), nal(5, 2000)], // STAP-A + FU-A
      [nal(9, 2), nal(1, 500)], // AUD alone (the slice is too big to join it) + FU-A
      [nal(1, 200)], // single NAL
      [nal(9, 2), nal(6, 30), nal(1, 80), nal(1, 80), nal(1, 80), nal(1, 80)], // two STAP-As
    ].map((nals) => joinAnnexB(nals));
    const types = new Set<number>();
    units.forEach((au, i) => {
      const packets = packetizer.packetizeFrame(au, { rtpTimestamp: 3000 * i });
      for (const p of packets) types.add(p.payload[0]! & 0x1f);
      expect(packets.map((p) => p.marker), `access unit ${i}: marker on the last packet only`).toEqual(packets.map((_, k) => k === packets.length - 1));
      const ours = new FrameAssembler("h264").assemble(overWire(packets));
      expect(ours.complete).toBe(true);
      if (ours.complete) expectSameBytes(ours.frame, au);
      const w = dePacketizeRtpPackets("MPEG4/ISO/AVC", packets.map((p) => WeriftRtpPacket.deSerialize(Buffer.from(serializeRtp(p)))));
      expectSameBytes(w.data, au);
    });
    expect([...types].sort((a, b) => a - b)).toEqual([1, 9, 24, 28]);
  });
});

describe("FrameAssembler", () => {
  const rand = mulberry32(99);

  it("assemble, shuffled VP8 packets crossing 65535 -> 0, returns the frame byte for byte", () => {
    for (const size of [1, 999, 1000, 5000, 100_000]) {
      const frame = randomBytes(rand, size);
      const packets = overWire(vp8(65500, { initialPictureId: 9 }).packetizeFrame(frame, { rtpTimestamp: 77 }));
      const result = new FrameAssembler("vp8").assemble(shuffle(rand, packets));
      expect(result.complete).toBe(true);
      if (!result.complete) continue;
      expectSameBytes(result.frame, frame);
      expect(result.keyframe).toBe((frame[0]! & 1) === 0);
      expect(result.pictureId).toBe(9);
      expect(result.timestamp).toBe(77);
      expect(result.firstSequenceNumber).toBe(65500);
      expect(result.lastSequenceNumber).toBe((65500 + packets.length - 1) % 65536);
    }
  });

  it("assemble, shuffled H.264 packets with a duplicate, returns the access unit and its keyframe flag", () => {
    const au = joinAnnexB([new Uint8Array([0x09, 0xf0]), randomBytes(rand, 4000).fill(0x65, 0, 1).fill(1, 1, 2)]);
    const packets = overWire(new RtpPacketizer({ codec: "h264", ssrc: 3, payloadType: 102, initialSequenceNumber: 65534 }).packetizeFrame(au, { rtpTimestamp: 5 }));
    const result = new FrameAssembler("h264").assemble(shuffle(rand, [...packets, packets[2]!]));
    expect(result.complete).toBe(true);
    if (result.complete) {
      expectSameBytes(result.frame, joinAnnexB(splitAnnexB(au))); // canonical form: 4-byte start codes
      expect(result.keyframe).toBe(true);
    }
  });

  it("assemble, a middle packet lost across the wrap, reports that sequence number as missing", () => {
    const packets = vp8(65534).packetizeFrame(new Uint8Array(4500), { rtpTimestamp: 1 });
    expect(packets.map((p) => p.sequenceNumber)).toEqual([65534, 65535, 0, 1, 2]);
    const result = new FrameAssembler("vp8").assemble(shuffle(rand, packets.filter((p) => p.sequenceNumber !== 0)));
    expect(result).toEqual({ complete: false, missing: [0], markerSeen: true, startSeen: true });
  });

  it("assemble, the marker packet lost, reports the frame incomplete with markerSeen false", () => {
    const packets = vp8(100).packetizeFrame(new Uint8Array(2500), { rtpTimestamp: 1 });
    expect(new FrameAssembler("vp8").assemble(packets.slice(0, 2))).toEqual({ complete: false, missing: [], markerSeen: false, startSeen: true });
  });

  it("assemble, the first packet lost, reports startSeen false (or the number itself when the start is known)", () => {
    const vp8Packets = vp8(100).packetizeFrame(new Uint8Array(2500), { rtpTimestamp: 1 });
    expect(new FrameAssembler("vp8").assemble(vp8Packets.slice(1))).toEqual({ complete: false, missing: [], markerSeen: true, startSeen: false });
    expect(new FrameAssembler("vp8").assemble(vp8Packets.slice(1), { firstSequenceNumber: 100 })).toEqual({
      complete: false,
      missing: [100],
      markerSeen: true,
      startSeen: false,
    });
    const h264 = new RtpPacketizer({ codec: "h264", ssrc: 1, payloadType: 102, initialSequenceNumber: 0, mtu: 1000 });
    const h264Packets = h264.packetizeFrame(joinAnnexB([new Uint8Array(3000).fill(0x41, 0, 1)]), { rtpTimestamp: 1 });
    expect(new FrameAssembler("h264").assemble(h264Packets.slice(1))).toMatchObject({ complete: false, startSeen: false });
  });

  it("assemble, packets of two timestamps or a marker before the end, throws RTP_MALFORMED", () => {
    const packetizer = vp8(0);
    const a = packetizer.packetizeFrame(new Uint8Array(1500), { rtpTimestamp: 1 });
    const b = packetizer.packetizeFrame(new Uint8Array(1500), { rtpTimestamp: 2 });
    expectEncoderError(() => new FrameAssembler("vp8").assemble([...a, ...b]), "RTP_MALFORMED", /different frames/);
    const early = a.map((p, i) => ({ ...p, marker: i === 0 }));
    expectEncoderError(() => new FrameAssembler("vp8").assemble(early), "RTP_MALFORMED", /not the last packet/);
  });

  it("assemble, no packets, reports an incomplete frame", () => {
    expect(new FrameAssembler("h264").assemble([])).toEqual({ complete: false, missing: [], markerSeen: false, startSeen: false });
  });
});
