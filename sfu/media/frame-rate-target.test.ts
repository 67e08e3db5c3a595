import { describe, expect, it } from "vitest";
import { DEFAULT_MIN_BITS_PER_INTRA_FRAME, frameRateTarget, PacketLossWindow } from "./frame-rate-target.ts";

describe("frameRateTarget", () => {
  it("no loss: the freshness floor, (1 + 1 / 2.5) x 1000 / 150 ms rounded up to 10 fps, whatever the bitrate", () => {
    for (const bitrateBps of [240_000, 600_000]) {
      const t = frameRateTarget({ lossRate: 0, bitrateBps, maxFps: 15 });
      expect(t).toMatchObject({ fps: 10, limitedBy: "sampling", frameSuccess: 1, missProbability: 0 });
    }
    // The pacing term: a sender that paced twice as fast needs fewer frames for the same freshness.
    expect(frameRateTarget({ lossRate: 0, bitrateBps: 600_000, maxFps: 15 }, { pacingFactor: 5 }).fps).toBe(8);
    expect(frameRateTarget({ lossRate: 0, bitrateBps: 600_000, maxFps: 15 }, { pacingFactor: Infinity }).fps).toBe(7);
  });

  it("per-frame FEC: frames survive the loss, so the floor holds; parity counted in the packets", () => {
    const t = frameRateTarget({ lossRate: 0.1, bitrateBps: 600_000, maxFps: 15, fec: {} });
    expect(t.fps).toBe(10);
    expect(t.limitedBy).toBe("sampling");
    expect(t.frameSuccess).toBeGreaterThanOrEqual(0.995);
    // 600 kbps at 10 fps, 10% loss: 57% for the encoder, 34.2 kbit = 4 media + 3 parity packets.
    expect(t.packetsPerFrame).toBe(7);
    // Without FEC a frame arrives whole only when none of its packets is lost.
    const plain = frameRateTarget({ lossRate: 0.1, bitrateBps: 600_000, maxFps: 15 });
    expect(plain.frameSuccess).toBeCloseTo(0.9 ** plain.packetsPerFrame, 9);
    expect(plain.frameSuccess).toBeLessThan(t.frameSuccess - 0.3);
  });

  it("no loss and no freshness bound: follows the MLLM's sampling rate (Artic)", () => {
    expect(frameRateTarget({ lossRate: 0, bitrateBps: 240_000, maxFps: 15 }, { maxFrameAgeMs: Infinity, samplingFps: 2 }).fps).toBe(2);
    expect(frameRateTarget({ lossRate: 0, bitrateBps: 240_000, maxFps: 15 }, { maxFrameAgeMs: Infinity, samplingFps: 0.5 }).fps).toBe(0.5);
  });

  it("5% loss at 240 kbps: the smallest rate whose window misses a good frame at most 5% of the time", () => {
    // 10 fps: 24 kbit = 3 packets, q = 0.857, miss = 0.143^1.5 = 0.054; 11 fps: 0.143^1.65 = 0.040.
    const t = frameRateTarget({ lossRate: 0.05, bitrateBps: 240_000, maxFps: 15 });
    expect(t.fps).toBe(11);
    expect(t.limitedBy).toBe("loss");
    expect(t.packetsPerFrame).toBe(3);
    expect(t.frameSuccess).toBeCloseTo(0.95 ** 3, 6);
    expect(t.missProbability).toBeCloseTo((1 - 0.95 ** 3) ** 1.65, 6);
    expect(frameRateTarget({ lossRate: 0.05, bitrateBps: 240_000, maxFps: 15 }, { missProbability: 0.06 }).fps).toBe(10);
  });

  it("10% loss: more frames would help, but bits per frame stop it at 240 kbps / 20 kbit = 12 fps", () => {
    const t = frameRateTarget({ lossRate: 0.1, bitrateBps: 240_000, maxFps: 15 });
    expect(t).toMatchObject({ fps: 12, limitedBy: "bits-per-frame", bitsPerFrame: 20_000 });
    expect(t.missProbability).toBeGreaterThan(0.05);
    // With a lower readability bound the loss target is met at 13 fps: 18.5 kbit = 2 packets,
    // q = 0.81, miss = 0.19^1.95 = 0.039 (12 fps: 3 packets, 0.271^1.8 = 0.095).
    const lower = frameRateTarget({ lossRate: 0.1, bitrateBps: 240_000, maxFps: 15 }, { minBitsPerFrame: 10_000 });
    expect(lower).toMatchObject({ fps: 13, limitedBy: "loss", packetsPerFrame: 2 });
  });

  it("intra-only at 600 kbps and 10% loss: the intra floor (60 kbit) caps the rate at 10 fps, not the inter floor's 15", () => {
    const inter = frameRateTarget({ lossRate: 0.1, bitrateBps: 600_000, maxFps: 15 });
    expect(inter, `inter floor: ${inter.fps} fps, ${inter.bitsPerFrame} bits`).toMatchObject({ fps: 15, limitedBy: "max-fps" });
    const intra = frameRateTarget({ lossRate: 0.1, bitrateBps: 600_000, maxFps: 15, intraOnly: true });
    expect(DEFAULT_MIN_BITS_PER_INTRA_FRAME).toBe(60_000);
    expect(intra, `intra floor: ${intra.fps} fps, ${intra.bitsPerFrame} bits`).toMatchObject({ fps: 10, bitsPerFrame: 60_000, packetsPerFrame: 7 });
    // 5% loss: still the ceiling; 7 packets a frame leave q = 0.95^7 = 0.70, miss = 0.30^1.5 = 0.17.
    const five = frameRateTarget({ lossRate: 0.05, bitrateBps: 600_000, maxFps: 15, intraOnly: true });
    expect(five).toMatchObject({ fps: 10 });
    expect(five.missProbability).toBeCloseTo((1 - 0.95 ** 7) ** 1.5, 6);
    // The option overrides the floor; the inter floor does not apply to an intra-only stream.
    expect(frameRateTarget({ lossRate: 0.1, bitrateBps: 600_000, maxFps: 15, intraOnly: true }, { minBitsPerIntraFrame: 100_000 }).fps).toBe(6);
    expect(frameRateTarget({ lossRate: 0.1, bitrateBps: 600_000, maxFps: 15, intraOnly: true }, { minBitsPerFrame: 100_000 }).fps).toBe(10);
    expect(() => frameRateTarget({ lossRate: 0, bitrateBps: 1, maxFps: 1, intraOnly: true }, { minBitsPerIntraFrame: 0 })).toThrow(/minBitsPerIntraFrame/);
  });

  it("the sender's ceiling caps the rate", () => {
    expect(frameRateTarget({ lossRate: 0.1, bitrateBps: 600_000, maxFps: 12 })).toMatchObject({ fps: 12, limitedBy: "max-fps" });
  });

  it("too few bits for the freshness floor: readable frames win over freshness", () => {
    // 100 kbps / 20 kbit = 5 fps < 10.
    expect(frameRateTarget({ lossRate: 0, bitrateBps: 100_000, maxFps: 15 })).toMatchObject({ fps: 5, limitedBy: "bits-per-frame" });
  });

  it("total loss: no rate meets the target; the one with the smallest miss probability within the ceiling", () => {
    expect(frameRateTarget({ lossRate: 1, bitrateBps: 240_000, maxFps: 15 })).toMatchObject({ fps: 10, missProbability: 1 });
  });

  it("bad input is a RangeError that names the field", () => {
    expect(() => frameRateTarget({ lossRate: 1.5, bitrateBps: 1, maxFps: 1 })).toThrow(/lossRate/);
    expect(() => frameRateTarget({ lossRate: 0, bitrateBps: 0, maxFps: 1 })).toThrow(/bitrateBps/);
    expect(() => frameRateTarget({ lossRate: 0, bitrateBps: 1, maxFps: NaN })).toThrow(/maxFps/);
    expect(() => frameRateTarget({ lossRate: 0, bitrateBps: 1, maxFps: 1 }, { missProbability: 0 })).toThrow(/missProbability/);
    expect(() => frameRateTarget({ lossRate: 0, bitrateBps: 1, maxFps: 1 }, { samplingFps: -2 })).toThrow(/samplingFps/);
  });
});

describe("PacketLossWindow", () => {
  it("update: loss over the last window from cumulative counters, one step per second at most", () => {
    const w = new PacketLossWindow(3000, 1000);
    expect(w.update(0, 0, 0)).toBe(0);
    expect(w.update(100, 10, 1000)).toBeCloseTo(0.1);
    expect(w.update(150, 99, 1500), "less than a step later: unchanged").toBeCloseTo(0.1);
    expect(w.update(200, 10, 2000)).toBeCloseTo(10 / 200);
    expect(w.update(300, 10, 3000)).toBeCloseTo(10 / 300);
    // The first second's losses leave the 3-second window.
    expect(w.update(400, 10, 4000)).toBe(0);
  });

  it("update: more missed than expected (reordering counted twice) is capped at 100%", () => {
    const w = new PacketLossWindow();
    w.update(0, 0, 0);
    expect(w.update(10, 50, 1000)).toBe(1);
  });
});
