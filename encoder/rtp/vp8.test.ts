import { describe, expect, it } from "vitest";
import { RtpPacket as WeriftRtpPacket, Vp8RtpPayload, dePacketizeRtpPackets } from "werift";
import { expectEncoderError, expectSameBytes, mulberry32, randomBytes } from "./test-util.ts";
import { parseRtp, serializeRtp } from "./packet.ts";
import { depacketizeVp8, packetizeVp8, parseVp8Descriptor } from "./vp8.ts";

/** Payloads -> RTP bytes on the wire, one frame, marker on the last. */
function toWire(payloads: Uint8Array[], seq0 = 100): Uint8Array[] {
  return payloads.map((payload, i) =>
    serializeRtp({ marker: i === payloads.length - 1, payloadType: 96, sequenceNumber: (seq0 + i) & 0xffff, timestamp: 3000, ssrc: 42, payload }),
  );
}

const MTU = 1200;

describe("packetizeVp8", () => {
  it("packetizeVp8, no picture ID, puts a 1-byte descriptor with S=1 only on the first packet", () => {
    const payloads = packetizeVp8(new Uint8Array(2500).fill(7), { mtu: 1000 });
    // 2500 bytes need three packets of at most 999; cut about equally: 834 + 833 + 833.
    expect(payloads.map((p) => p.length)).toEqual([835, 834, 834]);
    expect(payloads.map((p) => p[0])).toEqual([0x10, 0x00, 0x00]);
  });

  it("packetizeVp8, 15-bit picture ID, writes X=1 I=1 M=1 and the ID on every packet", () => {
    const payloads = packetizeVp8(new Uint8Array(10), { mtu: 8, pictureId: 0x1234 });
    expect([...payloads[0]!.subarray(0, 4)]).toEqual([0x90, 0x80, 0x92, 0x34]);
    expect([...payloads[1]!.subarray(0, 4)]).toEqual([0x80, 0x80, 0x92, 0x34]);
    expect(payloads.length).toBe(3);
  });

  it("packetizeVp8, empty frame, throws RTP_MALFORMED instead of sending zero packets", () => {
    expectEncoderError(() => packetizeVp8(new Uint8Array(0)), "RTP_MALFORMED", /empty VP8 frame/);
  });

  it("packetizeVp8, bad mtu or picture ID, throws INVALID_OPTION", () => {
    expectEncoderError(() => packetizeVp8(new Uint8Array(5), { mtu: 1 }), "INVALID_OPTION", /mtu/);
    expectEncoderError(() => packetizeVp8(new Uint8Array(5), { mtu: 4, pictureId: 1 }), "INVALID_OPTION", /mtu/);
    expectEncoderError(() => packetizeVp8(new Uint8Array(5), { pictureId: 32768 }), "INVALID_OPTION", /pictureId/);
  });

  it("packetizeVp8, keyframe option contradicting the P bit, throws INVALID_OPTION", () => {
    expectEncoderError(() => packetizeVp8(new Uint8Array([0x01, 0, 0]), { keyframe: true }), "INVALID_OPTION", /P bit/);
    expect(packetizeVp8(new Uint8Array([0x00, 0, 0]), { keyframe: true })).toHaveLength(1);
  });
});

describe("VP8 round trip", () => {
  const rand = mulberry32(7);
  const sizes = [1, 2, MTU - 4, MTU - 3, MTU - 1, MTU, MTU + 1, 2 * MTU, 100_000, 100_001];
  for (let i = 0; i < 20; i++) sizes.push(1 + Math.floor(rand() * 20_000));

  for (const pictureId of [undefined, 0, 127, 128, 0x7fff]) {
    it(`packetize -> serialize -> parse -> depacketize, pictureId ${pictureId}, gives the frame back byte for byte`, () => {
      for (const size of sizes) {
        const frame = randomBytes(rand, size);
        const opts = pictureId === undefined ? { mtu: MTU } : { mtu: MTU, pictureId };
        const payloads = packetizeVp8(frame, opts);
        expect(payloads.length).toBe(Math.ceil(size / (MTU - (pictureId === undefined ? 1 : 4))));
        const wire = toWire(payloads);
        for (const bytes of wire) expect(bytes.length).toBeLessThanOrEqual(MTU + 12);
        const out = depacketizeVp8(wire.map((b) => parseRtp(b).payload));
        expectSameBytes(out.frame, frame);
        expect(out.keyframe).toBe((frame[0]! & 1) === 0);
        expect(out.pictureId).toBe(pictureId);
      }
    });
  }

  it("werift dePacketizeRtpPackets, our VP8 packets, returns the same frame, keyframe flag and picture ID", () => {
    for (const size of sizes) {
      for (const pictureId of [undefined, 300]) {
        const frame = randomBytes(rand, size);
        const payloads = packetizeVp8(frame, pictureId === undefined ? { mtu: MTU } : { mtu: MTU, pictureId });
        const packets = toWire(payloads, 65530).map((b) => WeriftRtpPacket.deSerialize(Buffer.from(b)));
        const w = dePacketizeRtpPackets("VP8", packets);
        expectSameBytes(w.data, frame);
        expect(w.isKeyframe).toBe((frame[0]! & 1) === 0);
        const first = Vp8RtpPayload.deSerialize(Buffer.from(payloads[0]!));
        expect(first.sBit).toBe(1);
        expect(first.pid).toBe(0);
        expect(first.pictureId).toBe(pictureId);
      }
    }
  });
});

describe("parseVp8Descriptor / depacketizeVp8", () => {
  it("parseVp8Descriptor, every optional field set with a 7-bit picture ID, reads each field", () => {
    // X=1 N=1 S=1 PID=2 | I L T K | M=0 PictureID=0x55 | TL0PICIDX=9 | TID=2 Y=1 KEYIDX=17
    const d = parseVp8Descriptor(new Uint8Array([0xb2, 0xf0, 0x55, 0x09, 0xb1, 0xaa]));
    expect(d).toEqual({
      size: 5,
      nonReference: true,
      start: true,
      partitionId: 2,
      pictureId: 0x55,
      pictureIdBits: 7,
      tl0PicIdx: 9,
      temporalId: 2,
      layerSync: true,
      keyIdx: 17,
    });
  });

  it("parseVp8Descriptor, K without T, reads KEYIDX from the shared octet", () => {
    const d = parseVp8Descriptor(new Uint8Array([0x90, 0x10, 0x1f, 0xaa]));
    expect(d.size).toBe(3);
    expect(d.keyIdx).toBe(31);
    expect(d.temporalId).toBeUndefined();
  });

  it("depacketizeVp8, hand-built descriptors with L, T, K and 7-bit IDs, strips them and joins the data", () => {
    const payloads = [
      new Uint8Array([0x90, 0xe0, 0x05, 0x01, 0x40, 0x00, 0x01, 0x02]), // S=1: keyframe byte 0x00
      new Uint8Array([0x80, 0xe0, 0x05, 0x01, 0x40, 0x03]),
    ];
    expect(depacketizeVp8(payloads)).toEqual({ frame: new Uint8Array([0, 1, 2, 3]), keyframe: true, pictureId: 5 });
    const w = dePacketizeRtpPackets(
      "VP8",
      toWire(payloads).map((b) => WeriftRtpPacket.deSerialize(Buffer.from(b))),
    );
    expect([...w.data]).toEqual([0, 1, 2, 3]);
  });

  it("depacketizeVp8, truncated descriptors, throws RTP_MALFORMED naming the missing field", () => {
    expectEncoderError(() => depacketizeVp8([new Uint8Array(0)]), "RTP_MALFORMED", /first descriptor octet/);
    expectEncoderError(() => depacketizeVp8([new Uint8Array([0x90])]), "RTP_MALFORMED", /X extension octet/);
    expectEncoderError(() => depacketizeVp8([new Uint8Array([0x90, 0x80])]), "RTP_MALFORMED", /picture ID/);
    expectEncoderError(() => depacketizeVp8([new Uint8Array([0x90, 0x80, 0x81])]), "RTP_MALFORMED", /15-bit picture ID/);
    expectEncoderError(() => depacketizeVp8([new Uint8Array([0x90, 0x40])]), "RTP_MALFORMED", /TL0PICIDX/);
    expectEncoderError(() => depacketizeVp8([new Uint8Array([0x90, 0x20])]), "RTP_MALFORMED", /TID\/Y\/KEYIDX/);
  });

  it("depacketizeVp8, frame without its first packet, throws RTP_MALFORMED saying the start is missing", () => {
    const payloads = packetizeVp8(new Uint8Array(3000), { mtu: 1000 });
    expectEncoderError(() => depacketizeVp8(payloads.slice(1)), "RTP_MALFORMED", /first packet is missing/);
  });

  it("depacketizeVp8, two frames mixed, throws RTP_MALFORMED", () => {
    const a = packetizeVp8(new Uint8Array(10), { mtu: 8, pictureId: 1 });
    const b = packetizeVp8(new Uint8Array(10), { mtu: 8, pictureId: 2 });
    expectEncoderError(() => depacketizeVp8([...a, ...b]), "RTP_MALFORMED", /starts a new frame/);
    expectEncoderError(() => depacketizeVp8([a[0]!, b[1]!]), "RTP_MALFORMED", /picture ID changes/);
  });

  it("depacketizeVp8, no payloads or a start with no data, throws RTP_MALFORMED", () => {
    expectEncoderError(() => depacketizeVp8([]), "RTP_MALFORMED", /no VP8 payloads/);
    expectEncoderError(() => depacketizeVp8([new Uint8Array([0x10])]), "RTP_MALFORMED", /no payload header byte/);
  });
});
