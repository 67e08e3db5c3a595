import { describe, expect, it } from "vitest";
import { formatBitrate, limitationText, median, uplinkRates, uplinkSample } from "./stats.ts";

const outbound = (over: Record<string, unknown> = {}) => ({
  type: "outbound-rtp", kind: "video", timestamp: 1000, bytesSent: 10_000, framesEncoded: 30, packetsSent: 100,
  frameWidth: 1280, frameHeight: 720, qualityLimitationReason: "bandwidth", ...over,
});

describe("uplinkSample", () => {
  it("reads the video sender and the receiver's report, ignoring audio and other entries", () => {
    const s = uplinkSample([
      { type: "outbound-rtp", kind: "audio", bytesSent: 99_999_999 },
      outbound(),
      { type: "remote-inbound-rtp", kind: "video", packetsLost: 4, roundTripTime: 0.042 },
      { type: "candidate-pair", bytesSent: 5 },
    ]);
    expect(s).toEqual({
      timestampMs: 1000, bytesSent: 10_000, framesEncoded: 30, frameWidth: 1280, frameHeight: 720,
      packetsLost: 4, packetsSent: 100, rttMs: 42, qpSum: null, qualityLimitation: "bandwidth", availableOutgoingBps: null,
    });
    expect(uplinkSample([outbound(), { type: "candidate-pair", nominated: true, availableOutgoingBitrate: 1_500_000 }])!.availableOutgoingBps).toBe(1_500_000);
  });

  it("is null before any video is sent, and leaves unknown figures null", () => {
    expect(uplinkSample([{ type: "transport" }])).toBeNull();
    const s = uplinkSample([outbound({ frameWidth: undefined, frameHeight: "x" })])!;
    expect(s.frameWidth).toBeNull();
    expect(s.frameHeight).toBeNull();
    expect(s.packetsLost).toBeNull();
    expect(s.rttMs).toBeNull();
  });

  it("takes the simulcast layer that sends the most", () => {
    const s = uplinkSample([outbound({ bytesSent: 10 }), outbound({ bytesSent: 500, frameWidth: 640 })])!;
    expect(s.frameWidth).toBe(640);
  });
});

describe("uplinkRates", () => {
  const a = uplinkSample([outbound({ qpSum: 300 }), { type: "remote-inbound-rtp", kind: "video", packetsLost: 0 }])!;
  it("gives bits per second, frames per second and the loss over the interval", () => {
    const b = uplinkSample([
      outbound({ timestamp: 3000, bytesSent: 110_000, framesEncoded: 60, packetsSent: 200, qpSum: 1500 }),
      { type: "remote-inbound-rtp", kind: "video", packetsLost: 10 },
    ])!;
    const r = uplinkRates(a, b)!;
    expect(r.bitrateBps).toBeCloseTo(400_000, 6);
    expect(r.framerate).toBeCloseTo(15, 6);
    expect(r.lossRatio).toBeCloseTo(0.1, 6);
    expect(r.meanQp).toBeCloseTo(40, 6);
  });

  it("is null for an empty or backwards interval (a renegotiated sender restarts its counters)", () => {
    expect(uplinkRates(a, a)).toBeNull();
    expect(uplinkRates(a, { ...a, timestampMs: 2000, bytesSent: 5 })).toBeNull();
  });

  it("has no loss figure until the receiver reports", () => {
    const noRr = uplinkSample([outbound()])!;
    expect(uplinkRates(noRr, { ...noRr, timestampMs: 2000 })!.lossRatio).toBeNull();
  });
});

describe("formatting", () => {
  it("median and bitrate text", () => {
    expect(median([])).toBeNull();
    expect(median([300, 100, 200])).toBe(200);
    expect(median([100, 200])).toBe(150);
    expect(formatBitrate(null)).toBe("—");
    expect(formatBitrate(612_400)).toBe("612 kbps");
    expect(formatBitrate(1_450_000)).toBe("1.4 Mbps");
  });
});

describe("limitationText", () => {
  it("bandwidth with the path able to carry the server's target: the target holds it, not the network", () => {
    expect(limitationText("bandwidth", 2_000_000, 240_000)).toBe("held to the server's target");
    expect(limitationText("bandwidth", 200_000, 240_000)).toBe("limited by the network");
    expect(limitationText("bandwidth", null, 240_000)).toBe("limited by the network");
  });

  it("cpu in plain words; none or unknown, nothing", () => {
    expect(limitationText("cpu", null, null)).toBe("limited by this device's processor");
    expect(limitationText("none", 1, 1)).toBeNull();
    expect(limitationText(null, null, null)).toBeNull();
  });
});
