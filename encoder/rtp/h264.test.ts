import { describe, expect, it } from "vitest";
import { H264RtpPayload, RtpPacket as WeriftRtpPacket, dePacketizeRtpPackets } from "werift";
import { depacketizeH264, isH264Keyframe, joinAnnexB, packetizeH264, splitAnnexB } from "./h264.ts";
import { parseRtp, serializeRtp } from "./packet.ts";
import { expectEncoderError, expectSameBytes, mulberry32 } from "./test-util.ts";

const MTU = 1200;

/**
 * A NAL unit of `size` bytes (header included) that looks like a real one: F=0, the given type and
 * NRI, emulation prevention so no 00 00 0x (x <= 3) appears inside, and a non-zero last byte.
 * Zeros are frequent so the start-code scanner and the escaping are exercised.
 */
function randomNal(rand: () => number, size: number, type: number, nri = 3): Uint8Array {
  const out = new Uint8Array(size);
  out[0] = (nri << 5) | type;
  for (let i = 1; i < size; i++) {
    let b = rand() < 0.25 ? 0 : Math.floor(rand() * 256);
    if (i >= 3 && out[i - 1] === 0 && out[i - 2] === 0 && b <= 3) b = 3; // emulation_prevention_three_byte
    out[i] = b;
  }
  if (size > 1 && out[size - 1] === 0) out[size - 1] = 0x80; // rbsp_stop_one_bit
  return out;
}

function toWire(payloads: Uint8Array[], seq0 = 100): Uint8Array[] {
  return payloads.map((payload, i) =>
    serializeRtp({ marker: i === payloads.length - 1, payloadType: 102, sequenceNumber: (seq0 + i) & 0xffff, timestamp: 9000, ssrc: 5, payload }),
  );
}

describe("splitAnnexB / joinAnnexB", () => {
  it("splitAnnexB, mixed 3- and 4-byte start codes with leading and trailing zeros, returns the NAL units", () => {
    const stream = new Uint8Array([0, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 0, 1, 0x65, 0, 0, 3, 1, 0, 0]);
    expect(splitAnnexB(stream).map((n) => [...n])).toEqual([[0x67, 1, 2], [0x68, 3], [0x65, 0, 0, 3, 1]]);
  });

  it("splitAnnexB, two start codes in a row or only zeros, skips the empty NAL units", () => {
    expect(splitAnnexB(new Uint8Array([0, 0, 1, 0, 0, 1, 0x09, 0xf0])).map((n) => [...n])).toEqual([[0x09, 0xf0]]);
    expect(splitAnnexB(new Uint8Array([0, 0, 0]))).toEqual([]);
    expect(splitAnnexB(new Uint8Array(0))).toEqual([]);
  });

  it("splitAnnexB, data before the first start code or no start code at all, throws RTP_MALFORMED", () => {
    expectEncoderError(() => splitAnnexB(new Uint8Array([5, 0, 0, 1, 0x41])), "RTP_MALFORMED", /before its first start code/);
    expectEncoderError(() => splitAnnexB(new Uint8Array([0x41, 1, 2])), "RTP_MALFORMED", /no start code/);
  });

  it("joinAnnexB, NAL units, writes each behind 00 00 00 01 and splitAnnexB reads them back", () => {
    const nals = [new Uint8Array([0x67, 1]), new Uint8Array([0x41])];
    const joined = joinAnnexB(nals);
    expect([...joined]).toEqual([0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x41]);
    expect(splitAnnexB(joined)).toEqual(nals);
  });

  it("isH264Keyframe, access unit with and without an IDR slice, tells them apart", () => {
    expect(isH264Keyframe(joinAnnexB([new Uint8Array([0x67, 1]), new Uint8Array([0x65, 1])]))).toBe(true);
    expect(isH264Keyframe(joinAnnexB([new Uint8Array([0x09, 0xf0]), new Uint8Array([0x41, 1])]))).toBe(false);
  });
});

describe("packetizeH264", () => {
  it("packetizeH264, NAL that fits, sends it as a single NAL unit packet", () => {
    const nal = new Uint8Array([0x67, 1, 2, 3]);
    expect(packetizeH264(joinAnnexB([nal]))).toEqual([nal]);
  });

  it("packetizeH264, NAL of exactly mtu bytes, still sends a single NAL unit packet", () => {
    const nal = randomNal(mulberry32(1), 100, 1);
    expect(packetizeH264(joinAnnexB([nal]), { mtu: 100 })).toEqual([nal]);
  });

  it("packetizeH264, NAL larger than mtu, sends FU-A with NRI copied and S/E on the ends", () => {
    const nal = randomNal(mulberry32(2), 250, 5, 2);
    const payloads = packetizeH264(joinAnnexB([nal]), { mtu: 100 });
    // 249 body bytes need three fragments (98 fit one); cut about equally (split.ts): 83 each.
    expect(payloads.map((p) => p.length)).toEqual([85, 85, 85]);
    expectSameBytes(depacketizeH264(payloads), joinAnnexB([nal]));
    expect(payloads.map((p) => p[0])).toEqual([0x5c, 0x5c, 0x5c]); // F=0 NRI=2 type 28
    expect(payloads.map((p) => p[1])).toEqual([0x85, 0x05, 0x45]); // S / - / E, type 5
  });

  it("packetizeH264, SPS + PPS + small IDR slice, sends one STAP-A with each NAL behind its 16-bit size", () => {
    const sps = new Uint8Array([0x67, 0x42, 0xc0, 0x1f]);
    const pps = new Uint8Array([0x68, 0xce, 0x3c, 0x80]);
    const idr = randomNal(mulberry32(4), 50, 5, 3);
    const payloads = packetizeH264(joinAnnexB([sps, pps, idr]), { mtu: 100 });
    expect(payloads).toHaveLength(1);
    expect([...payloads[0]!]).toEqual([0x78, 0, 4, ...sps, 0, 4, ...pps, 0, 50, ...idr]); // F=0 NRI=3 type 24
    expectSameBytes(depacketizeH264(payloads), joinAnnexB([sps, pps, idr]));
  });

  it("packetizeH264, STAP-A header, takes the largest NRI and ORs the F bits of the NAL units it carries", () => {
    const a = new Uint8Array([(1 << 5) | 6, 1]); // SEI, NRI 1
    const b = new Uint8Array([0x80 | (2 << 5) | 1, 2]); // slice, F=1, NRI 2
    const c = new Uint8Array([0 | 1, 3]); // slice, NRI 0
    expect(packetizeH264(joinAnnexB([a, b, c]))[0]![0]).toBe(0x80 | (2 << 5) | 24);
    expect(packetizeH264(joinAnnexB([a, c]))[0]![0]).toBe((1 << 5) | 24);
  });

  it("packetizeH264, SPS + PPS + IDR larger than mtu, sends STAP-A(SPS, PPS) then FU-A fragments", () => {
    const sps = randomNal(mulberry32(5), 12, 7);
    const pps = randomNal(mulberry32(6), 4, 8);
    const idr = randomNal(mulberry32(7), 250, 5, 3);
    const payloads = packetizeH264(joinAnnexB([sps, pps, idr]), { mtu: 100 });
    expect(payloads.map((p) => [p[0]! & 0x1f, p.length])).toEqual([[24, 1 + 2 + 12 + 2 + 4], [28, 85], [28, 85], [28, 85]]);
    expectSameBytes(depacketizeH264(payloads), joinAnnexB([sps, pps, idr]));
  });

  it("packetizeH264, NAL units that fill a STAP-A to exactly mtu, aggregate; one byte more, they do not", () => {
    const nals = (last: number) => [randomNal(mulberry32(8), 40, 7), randomNal(mulberry32(9), last, 1)];
    // 1 + (2 + 40) + (2 + 55) = 100.
    expect(packetizeH264(joinAnnexB(nals(55)), { mtu: 100 }).map((p) => p.length)).toEqual([100]);
    expect(packetizeH264(joinAnnexB(nals(56)), { mtu: 100 }).map((p) => p.length)).toEqual([40, 56]);
  });

  it("packetizeH264, small NAL units around a large one, aggregates only consecutive ones and keeps their order", () => {
    const aud = new Uint8Array([0x09, 0xf0]);
    const sei = randomNal(mulberry32(10), 10, 6, 0);
    const big = randomNal(mulberry32(11), 150, 5);
    const tail = [randomNal(mulberry32(12), 20, 1), randomNal(mulberry32(13), 20, 1)];
    const au = joinAnnexB([aud, sei, big, ...tail]);
    const payloads = packetizeH264(au, { mtu: 100 });
    expect(payloads.map((p) => p[0]! & 0x1f)).toEqual([24, 28, 28, 24]);
    expectSameBytes(depacketizeH264(payloads), au);
  });

  it("packetizeH264, empty access unit, throws RTP_MALFORMED instead of sending zero packets", () => {
    expectEncoderError(() => packetizeH264(new Uint8Array(0)), "RTP_MALFORMED", /no NAL units/);
  });

  it("packetizeH264, NAL unit of an RTP-only or unspecified type, throws RTP_MALFORMED naming the type", () => {
    for (const type of [0, 24, 28, 31]) {
      expectEncoderError(() => packetizeH264(joinAnnexB([new Uint8Array([type, 1])])), "RTP_MALFORMED", new RegExp(`type ${type} `));
    }
  });

  it("packetizeH264, mtu below 3, throws INVALID_OPTION", () => {
    expectEncoderError(() => packetizeH264(joinAnnexB([new Uint8Array([0x41, 1])]), { mtu: 2 }), "INVALID_OPTION", /mtu/);
  });
});

describe("H.264 round trip", () => {
  const rand = mulberry32(11);
  const nalSizes = [1, 2, MTU - 1, MTU, MTU + 1, MTU + 2, 2 * MTU - 2, 2 * MTU - 1, 100_000, 100_001];
  for (let i = 0; i < 20; i++) nalSizes.push(1 + Math.floor(rand() * 30_000));
  const accessUnits = nalSizes.map((size, i) => {
    const slice = randomNal(rand, size, i % 2 === 0 ? 5 : 1, i % 4);
    const prefix = i % 2 === 0 ? [randomNal(rand, 2, 9), randomNal(rand, 12, 7), randomNal(rand, 4, 8)] : [];
    return joinAnnexB([...prefix, slice]);
  });

  it("packetize -> serialize -> parse -> depacketize, NALs of many sizes, gives the access unit back byte for byte", () => {
    for (const au of accessUnits) {
      const wire = toWire(packetizeH264(au, { mtu: MTU }));
      for (const bytes of wire) expect(bytes.length).toBeLessThanOrEqual(MTU + 12);
      expectSameBytes(depacketizeH264(wire.map((b) => parseRtp(b).payload)), au);
    }
  });

  it("packetize -> depacketize, input with 3-byte start codes, gives the same NAL units behind 4-byte start codes", () => {
    const nals = [randomNal(rand, 30, 7), randomNal(rand, 5000, 5)];
    const threeByte = new Uint8Array([0, 0, 1, ...nals[0]!, 0, 0, 1, ...nals[1]!]);
    expectSameBytes(depacketizeH264(packetizeH264(threeByte)), joinAnnexB(nals));
  });

  it("werift dePacketizeRtpPackets, our H.264 packets, returns the same Annex B bytes and keyframe flag", () => {
    for (const au of accessUnits) {
      const payloads = packetizeH264(au, { mtu: MTU });
      if (payloads.some((p) => p.length < 2)) continue; // werift cannot read 1-byte packets, see below
      const packets = toWire(payloads, 65530).map((b) => WeriftRtpPacket.deSerialize(Buffer.from(b)));
      const w = dePacketizeRtpPackets("MPEG4/ISO/AVC", packets);
      expectSameBytes(w.data, au);
      // werift may call a non-IDR access unit a keyframe (next test), and misses an IDR slice
      // inside a STAP-A (the test after): it sees every IDR sent as a single NAL or FU-A.
      const idrOutsideStapA = payloads.some((p) => (p[0]! & 0x1f) === 5 || ((p[0]! & 0x1f) === 28 && (p[1]! & 0x1f) === 5));
      if (idrOutsideStapA) expect(w.isKeyframe).toBe(true);
    }
  });

  it("werift dePacketizeRtpPackets, whole keyframe in one STAP-A, returns the bytes but not the keyframe flag", () => {
    // werift 0.24.4 reads byte 1 of every packet as an FU header; in a STAP-A that is the high byte
    // of the first size. Our receive path (FrameAssembler) flags keyframes from the NAL types.
    const au = joinAnnexB([new Uint8Array([0x67, 0x42, 0xc0, 0x1f]), new Uint8Array([0x68, 0xce, 0x3c, 0x80]), new Uint8Array([0x65, 0x88, 7, 7])]);
    const payloads = packetizeH264(au);
    expect(payloads).toHaveLength(1);
    const w = dePacketizeRtpPackets("MPEG4/ISO/AVC", toWire(payloads).map((b) => WeriftRtpPacket.deSerialize(Buffer.from(b))));
    expectSameBytes(w.data, au);
    expect(w.isKeyframe).toBe(false);
    expect(isH264Keyframe(depacketizeH264(payloads))).toBe(true);
  });

  it("werift dePacketizeRtpPackets, non-IDR single NAL whose 2nd byte ends in 00101, calls it a keyframe where we do not", () => {
    // werift takes byte 1 as an FU header on every packet, so its low 5 bits can read as type 5.
    const au = joinAnnexB([new Uint8Array([0x41, 0x05, 0x77])]);
    const packets = toWire(packetizeH264(au)).map((b) => WeriftRtpPacket.deSerialize(Buffer.from(b)));
    expect(dePacketizeRtpPackets("MPEG4/ISO/AVC", packets).isKeyframe).toBe(true);
    expect(isH264Keyframe(au)).toBe(false);
  });

  it("werift H264RtpPayload.deSerialize, 1-byte single NAL unit packet, throws (werift reads an FU header that is not there)", () => {
    // A NAL unit can be its header alone (end of sequence, type 10). RFC 6184 §5.6 sends it as a
    // 1-byte packet; werift 0.24.4 reads byte 1 for every packet type and crashes. We keep sending
    // it: the receivers we target (browsers) accept it, and this test shows when werift changes.
    const payloads = packetizeH264(joinAnnexB([new Uint8Array([0x0a])]));
    expect(payloads).toEqual([new Uint8Array([0x0a])]);
    expect(() => H264RtpPayload.deSerialize(Buffer.from(payloads[0]!))).toThrow();
    expectSameBytes(depacketizeH264(payloads), joinAnnexB([new Uint8Array([0x0a])]));
  });
});

describe("depacketizeH264", () => {
  it("depacketizeH264, STAP-A with SPS and PPS then a single NAL, writes all three NAL units", () => {
    const stap = new Uint8Array([0x78, 0, 3, 0x67, 1, 2, 0, 2, 0x68, 9]);
    const single = new Uint8Array([0x65, 7, 7]);
    const expected = joinAnnexB([new Uint8Array([0x67, 1, 2]), new Uint8Array([0x68, 9]), single]);
    expectSameBytes(depacketizeH264([stap, single]), expected);
    const w = new Uint8Array(H264RtpPayload.deSerialize(Buffer.from(stap)).payload);
    expectSameBytes(w, expected.subarray(0, 13));
  });

  it("depacketizeH264, truncated or empty STAP-A, throws RTP_MALFORMED naming the STAP-A", () => {
    expectEncoderError(() => depacketizeH264([new Uint8Array([0x78, 0, 5, 0x67, 1])]), "RTP_MALFORMED", /STAP-A.*size 5 runs past/);
    expectEncoderError(() => depacketizeH264([new Uint8Array([0x78, 0, 1, 0x67, 0])]), "RTP_MALFORMED", /size field cut/);
    expectEncoderError(() => depacketizeH264([new Uint8Array([0x78])]), "RTP_MALFORMED", /carries no NAL unit/);
    expectEncoderError(() => depacketizeH264([new Uint8Array([0x78, 0, 0])]), "RTP_MALFORMED", /zero-length/);
  });

  const fu = packetizeH264(joinAnnexB([randomNal(mulberry32(3), 300, 5)]), { mtu: 100 });

  it("depacketizeH264, FU-A without its start fragment, throws RTP_MALFORMED naming the missing start", () => {
    expectEncoderError(() => depacketizeH264(fu.slice(1)), "RTP_MALFORMED", /start \(S bit\) is missing/);
  });

  it("depacketizeH264, FU-A without its end fragment, throws RTP_MALFORMED naming the missing end", () => {
    expectEncoderError(() => depacketizeH264(fu.slice(0, -1)), "RTP_MALFORMED", /without its last fragment/);
    expectEncoderError(() => depacketizeH264([fu[0]!, fu[0]!]), "RTP_MALFORMED", /previous fragmented NAL unit has no end/);
    expectEncoderError(() => depacketizeH264([fu[0]!, new Uint8Array([0x41, 1])]), "RTP_MALFORMED", /before the FU-A .* ended/);
  });

  it("depacketizeH264, FU-A with S and E both set or a changing type, throws RTP_MALFORMED", () => {
    expectEncoderError(() => depacketizeH264([new Uint8Array([0x7c, 0xc5, 1])]), "RTP_MALFORMED", /both S and E/);
    expectEncoderError(() => depacketizeH264([fu[0]!, new Uint8Array([0x7c, 0x41, 1])]), "RTP_MALFORMED", /changes NAL unit type/);
    expectEncoderError(() => depacketizeH264([new Uint8Array([0x7c])]), "RTP_MALFORMED", /no FU header/);
    expectEncoderError(() => depacketizeH264([new Uint8Array([0x7c, 0x9c, 1])]), "RTP_MALFORMED", /fragments NAL unit type 28/);
  });

  it("depacketizeH264, reserved and interleaved-mode types, throws RTP_MALFORMED naming the type", () => {
    for (const type of [0, 30, 31]) {
      expectEncoderError(() => depacketizeH264([new Uint8Array([type, 1, 2])]), "RTP_MALFORMED", new RegExp(`reserved NAL unit type ${type}`));
    }
    for (const type of [25, 26, 27, 29]) {
      expectEncoderError(() => depacketizeH264([new Uint8Array([type, 0x80, 2])]), "RTP_MALFORMED", new RegExp(`type ${type}, .*interleaved`));
    }
  });

  it("depacketizeH264, no payloads or an empty one, throws RTP_MALFORMED", () => {
    expectEncoderError(() => depacketizeH264([]), "RTP_MALFORMED", /no H.264 payloads/);
    expectEncoderError(() => depacketizeH264([new Uint8Array(0)]), "RTP_MALFORMED", /payload 0 is empty/);
  });
});
