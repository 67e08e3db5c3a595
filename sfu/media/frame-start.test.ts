import { describe, expect, it } from "vitest";
import { packetizeH264, packetizeVp8 } from "../../encoder/rtp/index.ts";
import { frameStartConfidence, h264PayloadStart } from "./frame-start.ts";

const annexB = (...nals: number[][]) => Uint8Array.from(nals.flatMap((n) => [0, 0, 0, 1, ...n]));
const big = (head: number[]) => [...head, ...Array.from({ length: 500 }, (_, i) => 1 + (i % 200))];

describe("h264PayloadStart", () => {
  it("sure for AUD, SPS and a non-IDR first slice (first_mb_in_slice 0), single or FU-A start", () => {
    expect(h264PayloadStart(Uint8Array.of(0x09, 0xf0))).toBe("sure");
    expect(h264PayloadStart(Uint8Array.of(0x67, 0x42))).toBe("sure");
    expect(h264PayloadStart(Uint8Array.of(0x41, 0x9a))).toBe("sure");
    const fu = packetizeH264(annexB(big([0x41, 0x9a])), { mtu: 100 });
    expect(fu.map(h264PayloadStart)).toEqual(fu.map((_, i) => (i === 0 ? "sure" : "no")));
  });

  it("maybe for PPS, SEI and an IDR first slice: SPS/PPS usually come before them", () => {
    expect(h264PayloadStart(Uint8Array.of(0x68, 0xce))).toBe("maybe");
    expect(h264PayloadStart(Uint8Array.of(0x06, 0x05))).toBe("maybe");
    const fu = packetizeH264(annexB(big([0x65, 0x88])), { mtu: 100 });
    expect(h264PayloadStart(fu[0]!)).toBe("maybe");
  });

  it("no for a later slice of a picture (first_mb_in_slice > 0), FU-A continuations and empty payloads", () => {
    expect(h264PayloadStart(Uint8Array.of(0x41, 0x5a))).toBe("no");
    const fu = packetizeH264(annexB(big([0x41, 0x40])), { mtu: 100 });
    expect(h264PayloadStart(fu[0]!)).toBe("no");
    expect(h264PayloadStart(new Uint8Array(0))).toBe("no");
  });

  it("STAP-A: judged by its first aggregated NAL unit", () => {
    expect(h264PayloadStart(Uint8Array.of(0x18, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce))).toBe("sure");
    expect(h264PayloadStart(Uint8Array.of(0x18, 0, 2, 0x41, 0x40))).toBe("no");
  });
});

describe("frameStartConfidence", () => {
  it("vp8: sure only for the packet with S=1 and PID 0", () => {
    const payloads = packetizeVp8(Uint8Array.from({ length: 500 }, (_, i) => i & 0xff), { mtu: 100 });
    expect(payloads.map((p) => frameStartConfidence("vp8", p))).toEqual(payloads.map((_, i) => (i === 0 ? "sure" : "no")));
  });
});
