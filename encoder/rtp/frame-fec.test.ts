import { describe, expect, it } from "vitest";
import { fecMediaShare, FrameFecReceiver, FrameFecSender, parityFor, parseFrameFecHeader } from "./frame-fec.ts";
import { fecFrameSurvival } from "./fec.ts";
import { type RtpPacket, parseRtp, serializeRtp } from "./packet.ts";
import { expectEncoderError, mulberry32, randomBytes } from "./test-util.ts";

const MEDIA_SSRC = 0x11223344;

/** One frame's packets as a packetizer makes them: consecutive sequence numbers, marker on the last. */
function frame(seq: number, ts: number, sizes: number[], seed: number): RtpPacket[] {
  const rand = mulberry32(seed);
  return sizes.map((n, i) => ({
    marker: i === sizes.length - 1, payloadType: 102, sequenceNumber: (seq + i) & 0xffff, timestamp: ts, ssrc: MEDIA_SSRC,
    payload: randomBytes(rand, n),
  }));
}

/** Every subset of {0..n-1} of size `size`. */
function subsets(n: number, size: number): number[][] {
  if (size === 0) return [[]];
  if (n < size) return [];
  return [...subsets(n - 1, size), ...subsets(n - 1, size - 1).map((s) => [...s, n - 1])];
}

/** Delivers media then parity, skipping the indexes in `lost` (0..k-1 media, k.. parity); returns what was rebuilt. */
function deliver(rx: FrameFecReceiver, media: RtpPacket[], parity: RtpPacket[], lost: number[]): RtpPacket[] {
  const out: RtpPacket[] = [];
  [...media, ...parity].forEach((p, i) => {
    if (lost.includes(i)) return;
    out.push(...(i < media.length ? rx.media(p) : rx.parity(p)));
  });
  return out;
}

describe("per-frame FEC on RTP (frame-fec.ts)", () => {
  it("rebuilds every lost media packet, bit-exact, for every pattern of up to m losses (k = 5 of unequal sizes, m = 2)", () => {
    const media = frame(65533, 90_000, [1200, 1200, 700, 1200, 31], 1);
    const parity = new FrameFecSender({ ssrc: 0xabc, payloadType: 118 }).protect(media, 2);
    let patterns = 0;
    for (let n = 1; n <= 2; n++) {
      for (const lost of subsets(7, n)) {
        const got = deliver(new FrameFecReceiver(), media, parity, lost);
        const lostMedia = lost.filter((i) => i < 5);
        expect(got.map((p) => p.sequenceNumber)).toEqual(lostMedia.map((i) => media[i]!.sequenceNumber));
        got.forEach((p, j) => expect(p).toEqual(media[lostMedia[j]!]));
        patterns++;
      }
    }
    expect(patterns).toBe(7 + 21);
  });

  it("cannot rebuild when more than m are lost, and says so in its counters", () => {
    const media = frame(10, 1, [900, 900, 900, 900], 2);
    const parity = new FrameFecSender({ ssrc: 0xabc, payloadType: 118 }).protect(media, 1);
    const rx = new FrameFecReceiver();
    expect(deliver(rx, media, parity, [0, 2])).toEqual([]);
    expect(rx.counters).toMatchObject({ parityReceived: 1, packetsRecovered: 0, framesRepaired: 0 });
  });

  it("repairs when the parity arrives before the media (reordering) and survives the wire format", () => {
    const media = frame(500, 3000, [1000, 1000, 1000], 3);
    const parity = new FrameFecSender({ ssrc: 0xabc, payloadType: 118, initialSequenceNumber: 9 }).protect(media, 1);
    const wire = (p: RtpPacket) => parseRtp(serializeRtp(p));
    const rx = new FrameFecReceiver();
    expect(rx.parity(wire(parity[0]!))).toEqual([]);
    expect(rx.media(wire(media[0]!))).toEqual([]);
    const got = rx.media(wire(media[2]!));
    expect(got).toHaveLength(1);
    expect(got[0]).toEqual(media[1]);
    // The missing packet arriving late changes nothing more.
    expect(rx.media(wire(media[1]!))).toEqual([]);
    expect(rx.counters.framesRepaired).toBe(1);
  });

  it("numbers parity packets on their own SSRC and marks the frame's last one", () => {
    const tx = new FrameFecSender({ ssrc: 0xabc, payloadType: 118, initialSequenceNumber: 65535 });
    const a = tx.protect(frame(1, 7, [10, 10], 4), 2);
    const b = tx.protect(frame(3, 8, [10], 5), 1);
    expect([...a, ...b].map((p) => [p.ssrc, p.payloadType, p.sequenceNumber, p.timestamp, p.marker])).toEqual([
      [0xabc, 118, 65535, 7, false], [0xabc, 118, 0, 7, true], [0xabc, 118, 1, 8, true],
    ]);
    expect(parseFrameFecHeader(a[1]!.payload)).toEqual({ k: 2, m: 2, j: 1, protectedSsrc: MEDIA_SSRC, baseSequenceNumber: 1, shardLength: 13 });
    expect(tx.protect(frame(4, 9, [10], 6), 0)).toEqual([]);
  });

  it("keeps frames apart: a repair uses only its own frame's packets", () => {
    const tx = new FrameFecSender({ ssrc: 0xabc, payloadType: 118 });
    const f1 = frame(100, 1, [300, 300], 7);
    const f2 = frame(102, 2, [300, 300], 8);
    const p1 = tx.protect(f1, 1);
    const p2 = tx.protect(f2, 1);
    const rx = new FrameFecReceiver();
    expect(deliver(rx, f1, p1, [1])).toEqual([f1[1]]);
    expect(deliver(rx, f2, p2, [0])).toEqual([f2[0]]);
  });

  it("refuses malformed parity with an error naming the field, and goes on", () => {
    const media = frame(1, 1, [100, 100], 9);
    const [good] = new FrameFecSender({ ssrc: 0xabc, payloadType: 118 }).protect(media, 1);
    const bad = (edit: (b: Uint8Array) => Uint8Array): RtpPacket => ({ ...good!, payload: edit(good!.payload.slice()) });
    const rx = new FrameFecReceiver();
    expectEncoderError(() => rx.parity(bad((b) => b.subarray(0, 5))), "RTP_MALFORMED", /too short: 5 bytes/);
    expectEncoderError(() => rx.parity(bad((b) => ((b[0] = 7), b))), "RTP_MALFORMED", /version 7/);
    expectEncoderError(() => rx.parity(bad((b) => ((b[1] = 0), b))), "RTP_MALFORMED", /k \(data packets\) is 0/);
    expectEncoderError(() => rx.parity(bad((b) => ((b[3] = 1), b))), "RTP_MALFORMED", /parity index j = 1 is not below m = 1/);
    expectEncoderError(() => rx.parity(bad((b) => b.subarray(0, b.length - 1))), "RTP_MALFORMED", /header says 103/);
    expect(rx.counters.malformed).toBe(5);
    expect(deliver(rx, media, [good!], [0])).toEqual([media[0]]);
  });

  it("checks what it is asked to protect", () => {
    const tx = new FrameFecSender({ ssrc: 1, payloadType: 118 });
    const f = frame(1, 1, [10, 10], 10);
    expectEncoderError(() => tx.protect([f[0]!, { ...f[1]!, timestamp: 2 }], 1), "INVALID_OPTION", /one frame/);
    expectEncoderError(() => tx.protect([f[0]!, { ...f[1]!, sequenceNumber: 5 }], 1), "INVALID_OPTION", /expected 2/);
    expect(() => new FrameFecSender({ ssrc: 1, payloadType: 200 })).toThrow(/payloadType/);
  });

  it("forgets old frames: memory stays bounded over a long stream", () => {
    const tx = new FrameFecSender({ ssrc: 0xabc, payloadType: 118 });
    const rx = new FrameFecReceiver({ maxMediaPackets: 50, maxGroups: 4 });
    for (let f = 0; f < 200; f++) deliver(rx, frame(f * 3, f, [50, 50, 50], f), tx.protect(frame(f * 3, f, [50, 50, 50], f), 1), [0, 1]);
    // Every frame lost two of three media packets with one parity: none repairable, all forgotten but four.
    expect(rx.counters.groupsUnrepaired).toBe(196);
  });

  it("sizes parity for a target frame loss", () => {
    expect(parityFor(7, 0)).toBe(0);
    for (const [k, p] of [[4, 0.05], [7, 0.1], [12, 0.1], [3, 0.02]] as const) {
      const m = parityFor(k, p);
      expect(1 - fecFrameSurvival(k, m, p)).toBeLessThanOrEqual(0.005);
      expect(1 - fecFrameSurvival(k, m - 1, p)).toBeGreaterThan(0.005);
    }
    expect(parityFor(4, 0.1, 0.005, 2)).toBe(2);
    expect(() => parityFor(0, 0.1)).toThrow(/k must be/);
    expect(() => parityFor(3, 1.5)).toThrow(/loss rate/);
  });

  it("gives no parity to a frame too long for the header instead of a negative count", () => {
    expect(parityFor(250, 0.1)).toBe(6);
    expect(parityFor(256, 0.1)).toBe(0);
    expect(parityFor(400, 0.1)).toBe(0);
    // ...and such a frame is then sent unprotected rather than throwing.
    const big = frame(0, 1, Array.from({ length: 300 }, () => 20), 1);
    expect(new FrameFecSender({ ssrc: 1, payloadType: 118 }).protect(big, parityFor(big.length, 0.1))).toEqual([]);
  });
});

describe("fecMediaShare", () => {
  it("leaves the encoder what the parity does not take", () => {
    expect(fecMediaShare({ bitrateBps: 600_000, fps: 15, lossRate: 0 })).toBe(1);
    expect(fecMediaShare({ bitrateBps: 600_000, fps: 15, lossRate: 0.05 })).toBe(0.6);
    expect(fecMediaShare({ bitrateBps: 600_000, fps: 15, lossRate: 0.1 })).toBe(0.5);
    // Bigger frames need relatively less parity.
    expect(fecMediaShare({ bitrateBps: 3_000_000, fps: 15, lossRate: 0.05 })).toBeGreaterThan(0.7);
    expect(() => fecMediaShare({ bitrateBps: 0, fps: 15, lossRate: 0.1 })).toThrow(/bitrateBps/);
  });
});
