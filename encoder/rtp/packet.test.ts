import { describe, expect, it } from "vitest";
import { RtpHeader, RtpPacket as WeriftRtpPacket } from "werift";
import { expectEncoderError, expectSameBytes, mulberry32, randomBytes } from "./test-util.ts";
import { type RtpPacket, parseRtp, rtpPacketSize, seqAdd, seqDiff, serializeRtp } from "./packet.ts";

const full: RtpPacket = {
  marker: true,
  payloadType: 96,
  sequenceNumber: 0xfffe,
  timestamp: 0xfedcba98,
  ssrc: 0x12345678,
  csrcs: [1, 0xffffffff],
  // RFC 8285 one-byte elements: id 1 with 2 bytes, then one byte of padding.
  extension: { profile: 0xbede, data: new Uint8Array([0x11, 0xaa, 0xbb, 0x00]) },
  padding: 4,
  payload: new Uint8Array([1, 2, 3, 4, 5]),
};

describe("serializeRtp / parseRtp", () => {
  it("serializeRtp, minimal packet, writes the RFC 3550 fixed header byte for byte", () => {
    const bytes = serializeRtp({
      marker: true,
      payloadType: 96,
      sequenceNumber: 0x1234,
      timestamp: 0x89abcdef,
      ssrc: 0x01020304,
      payload: new Uint8Array([0xde, 0xad]),
    });
    expect([...bytes]).toEqual([0x80, 0xe0, 0x12, 0x34, 0x89, 0xab, 0xcd, 0xef, 1, 2, 3, 4, 0xde, 0xad]);
  });

  it("parseRtp, packet with CSRCs, extension and padding, reads every field", () => {
    const bytes = serializeRtp(full);
    expect(bytes.length).toBe(rtpPacketSize(full));
    expect(bytes[0]).toBe(0x80 | 0x20 | 0x10 | 2);
    expect(bytes[bytes.length - 1]).toBe(4);
    expect(parseRtp(bytes)).toEqual(full);
  });

  it("serializeRtp of parseRtp, every field combination, gives back the same bytes", () => {
    const rand = mulberry32(1);
    for (let i = 0; i < 300; i++) {
      const p: RtpPacket = {
        marker: rand() < 0.5,
        payloadType: Math.floor(rand() * 128),
        sequenceNumber: Math.floor(rand() * 65536),
        timestamp: Math.floor(rand() * 2 ** 32),
        ssrc: Math.floor(rand() * 2 ** 32),
        payload: randomBytes(rand, Math.floor(rand() * 1500)),
      };
      if (rand() < 0.5) p.csrcs = Array.from({ length: Math.floor(rand() * 16) }, () => Math.floor(rand() * 2 ** 32));
      if (rand() < 0.5) p.extension = { profile: Math.floor(rand() * 65536), data: randomBytes(rand, 4 * Math.floor(rand() * 10)) };
      if (rand() < 0.5) p.padding = 1 + Math.floor(rand() * 255);
      const bytes = serializeRtp(p);
      const back = parseRtp(bytes);
      expect(back.marker).toBe(p.marker);
      expect(back.payloadType).toBe(p.payloadType);
      expect(back.sequenceNumber).toBe(p.sequenceNumber);
      expect(back.timestamp).toBe(p.timestamp);
      expect(back.ssrc).toBe(p.ssrc);
      expect(back.csrcs ?? []).toEqual(p.csrcs ?? []);
      expect(back.extension).toEqual(p.extension);
      expect(back.padding).toBe(p.padding);
      expectSameBytes(back.payload, p.payload);
      expectSameBytes(serializeRtp(back), bytes);
    }
  });

  it("parseRtp, payload view into a larger buffer, reads only its own bytes", () => {
    const bytes = serializeRtp(full);
    const big = new Uint8Array(bytes.length + 20);
    big.set(bytes, 10);
    expect(parseRtp(big.subarray(10, 10 + bytes.length))).toEqual(full);
  });

  it("serializeRtp, field out of range, throws RTP_MALFORMED naming the field", () => {
    const base = { marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 1, payload: new Uint8Array(1) };
    expectEncoderError(() => serializeRtp({ ...base, payloadType: 128 }), "RTP_MALFORMED", /payloadType/);
    expectEncoderError(() => serializeRtp({ ...base, sequenceNumber: 65536 }), "RTP_MALFORMED", /sequenceNumber/);
    expectEncoderError(() => serializeRtp({ ...base, timestamp: -1 }), "RTP_MALFORMED", /timestamp/);
    expectEncoderError(() => serializeRtp({ ...base, csrcs: new Array<number>(16).fill(0) }), "RTP_MALFORMED", /15 CSRCs/);
    expectEncoderError(() => serializeRtp({ ...base, padding: 256 }), "RTP_MALFORMED", /padding/);
    expectEncoderError(
      () => serializeRtp({ ...base, extension: { profile: 0xbede, data: new Uint8Array(3) } }),
      "RTP_MALFORMED",
      /multiple of 4/,
    );
  });
});

describe("parseRtp malformed input", () => {
  const good = serializeRtp(full);

  it("parseRtp, buffer shorter than the fixed header, throws naming the length", () => {
    expectEncoderError(() => parseRtp(good.subarray(0, 11)), "RTP_MALFORMED", /too short: 11 bytes/);
    expectEncoderError(() => parseRtp(new Uint8Array(0)), "RTP_MALFORMED", /too short: 0 bytes/);
  });

  it("parseRtp, version field not 2, throws naming the version", () => {
    const bad = good.slice();
    bad[0] = (bad[0]! & 0x3f) | 0x40;
    expectEncoderError(() => parseRtp(bad), "RTP_MALFORMED", /version must be 2, got 1/);
  });

  it("parseRtp, CSRC count beyond the buffer, throws naming the CSRC count", () => {
    const bad = good.slice(0, 16);
    bad[0] = 0x80 | 3;
    expectEncoderError(() => parseRtp(bad), "RTP_MALFORMED", /CSRC count 3/);
  });

  it("parseRtp, extension header cut off, throws naming the extension header", () => {
    const bad = good.slice(0, 14);
    bad[0] = 0x90;
    expectEncoderError(() => parseRtp(bad), "RTP_MALFORMED", /extension header/);
  });

  it("parseRtp, extension length beyond the buffer, throws naming the extension length", () => {
    const bad = new Uint8Array([0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 3, 1, 2, 3, 4]);
    expectEncoderError(() => parseRtp(bad), "RTP_MALFORMED", /extension length 12 bytes/);
  });

  it("parseRtp, padding count larger than the payload, throws naming the padding", () => {
    const bad = new Uint8Array([0xa0, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9, 200]);
    expectEncoderError(() => parseRtp(bad), "RTP_MALFORMED", /padding 200 bytes is larger than the 3 bytes/);
  });

  it("parseRtp, padding bit with a zero count, throws naming the padding count", () => {
    const bad = new Uint8Array([0xa0, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9, 0]);
    expectEncoderError(() => parseRtp(bad), "RTP_MALFORMED", /padding count octet is 0/);
  });
});

describe("sequence arithmetic", () => {
  it("seqDiff and seqAdd, across 65535 -> 0, count forward through the wrap", () => {
    expect(seqAdd(65535, 1)).toBe(0);
    expect(seqAdd(65530, 10)).toBe(4);
    expect(seqAdd(0, -1)).toBe(65535);
    expect(seqDiff(65535, 0)).toBe(1);
    expect(seqDiff(0, 65535)).toBe(-1);
    expect(seqDiff(65000, 100)).toBe(636);
  });
});

describe("werift interop", () => {
  it("werift RtpPacket.deSerialize, our bytes with CSRCs, extension and padding, reads the same fields and payload", () => {
    const w = WeriftRtpPacket.deSerialize(Buffer.from(serializeRtp(full)));
    expect(w.header.version).toBe(2);
    expect(w.header.marker).toBe(full.marker);
    expect(w.header.payloadType).toBe(full.payloadType);
    expect(w.header.sequenceNumber).toBe(full.sequenceNumber);
    expect(w.header.timestamp).toBe(full.timestamp);
    expect(w.header.ssrc).toBe(full.ssrc);
    expect(w.header.csrc).toEqual(full.csrcs);
    expect(w.header.padding).toBe(true);
    expect(w.header.paddingSize).toBe(full.padding);
    expect(w.header.extensionProfile).toBe(0xbede);
    expect(w.header.extensions.map((e) => ({ id: e.id, payload: [...e.payload] }))).toEqual([{ id: 1, payload: [0xaa, 0xbb] }]);
    expect(new Uint8Array(w.payload)).toEqual(full.payload);
  });

  it("werift RtpPacket.deSerialize, random plain packets from us, agrees on every field", () => {
    const rand = mulberry32(2);
    for (let i = 0; i < 100; i++) {
      const p: RtpPacket = {
        marker: rand() < 0.5,
        payloadType: Math.floor(rand() * 128),
        sequenceNumber: Math.floor(rand() * 65536),
        timestamp: Math.floor(rand() * 2 ** 32),
        ssrc: Math.floor(rand() * 2 ** 32),
        payload: randomBytes(rand, 1 + Math.floor(rand() * 1200)),
      };
      const w = WeriftRtpPacket.deSerialize(Buffer.from(serializeRtp(p)));
      expect([w.header.marker, w.header.payloadType, w.header.sequenceNumber, w.header.timestamp, w.header.ssrc]).toEqual([
        p.marker,
        p.payloadType,
        p.sequenceNumber,
        p.timestamp,
        p.ssrc,
      ]);
      expectSameBytes(w.payload, p.payload);
    }
  });

  it("parseRtp, werift-serialized packets with one-byte, two-byte and no extensions, reads them and re-serializes bit-exact", () => {
    const cases = [
      new RtpHeader({ marker: true, payloadType: 100, sequenceNumber: 65535, timestamp: 4294967295, ssrc: 7, csrc: [9, 10] }),
      new RtpHeader({
        payloadType: 96,
        sequenceNumber: 3,
        timestamp: 90000,
        ssrc: 0xdeadbeef,
        extensionProfile: 0xbede,
        extensions: [
          { id: 3, payload: Buffer.from([1, 2, 3]) },
          { id: 5, payload: Buffer.from([0x44]) },
        ],
      }),
      new RtpHeader({
        payloadType: 97,
        sequenceNumber: 4,
        timestamp: 1,
        ssrc: 2,
        extensionProfile: 0x1000,
        extensions: [{ id: 200, payload: Buffer.from([9, 8, 7, 6, 5]) }],
        padding: true,
        paddingSize: 3,
      }),
    ];
    for (const header of cases) {
      const payload = Buffer.from([0x10, 0x20, 0x30]);
      const bytes = new Uint8Array(new WeriftRtpPacket(header, payload).serialize());
      const ours = parseRtp(bytes);
      expect(ours.marker).toBe(header.marker);
      expect(ours.payloadType).toBe(header.payloadType);
      expect(ours.sequenceNumber).toBe(header.sequenceNumber);
      expect(ours.timestamp).toBe(header.timestamp);
      expect(ours.ssrc).toBe(header.ssrc);
      expect(ours.csrcs ?? []).toEqual(header.csrc);
      expect(ours.extension?.profile).toBe(header.extensions.length > 0 ? header.extensionProfile : undefined);
      expect(ours.padding).toBe(header.padding ? header.paddingSize : undefined);
      expect(ours.payload).toEqual(new Uint8Array(payload));
      expect(serializeRtp(ours)).toEqual(bytes);
    }
  });
});
