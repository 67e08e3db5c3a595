import { describe, expect, it } from "vitest";
import { parseDataChannelMessage, regionMapBlockCount, type DataChannelMessage } from "./datachannel.ts";

const samples: DataChannelMessage[] = [
  { type: "region-map", version: 3, validUntilMs: 1_700_000_000_000, width: 130, height: 128, blockSize: 64, weights: [1, 0.5, 0, 0, 0.25, 1] },
  { type: "region-map-ack", version: 3, applied: true },
  { type: "region-map-ack", version: 4, applied: false, reason: "stale" },
  { type: "rate-target", maxBitrateBps: 150_000, maxFramerate: 2 },
  { type: "question", id: "q1", text: "what is on the sign?" },
  { type: "answer-chunk", id: "q1", text: "EXIT", final: true },
  { type: "metrics", timestampMs: 5, bitrateBps: 148_000, framerate: 2, packetLossRatio: 0.1, rttMs: 40 },
  { type: "metrics", timestampMs: 0 },
  { type: "metrics", timestampMs: 1, intraOnly: true },
];

describe("parseDataChannelMessage", () => {
  it.each(samples.map((m) => [m.type, m] as const))("parseDataChannelMessage, valid %s, round-trips unchanged", (_t, msg) => {
    expect(parseDataChannelMessage(JSON.stringify(msg))).toEqual({ ok: true, msg });
  });

  const map = { type: "region-map", version: 1, validUntilMs: 0, width: 128, height: 64, blockSize: 64, weights: [1, 0] };

  it.each([
    [{ ...map, weights: [1] }, "weights", "expected 2 weights (2x1 blocks), got 1"],
    [{ ...map, weights: [1, 1.5] }, "weights.1", "<= 1"],
    [{ ...map, weights: [1, -0.1] }, "weights.1", ">= 0"],
    [{ ...map, blockSize: 0 }, "blockSize", ">= 1"],
    [{ type: "rate-target", maxBitrateBps: 0, maxFramerate: 2 }, "maxBitrateBps", ">= 1"],
    [{ type: "rate-target", maxBitrateBps: 1000, maxFramerate: 0 }, "maxFramerate", "> 0"],
    [{ type: "answer-chunk", id: "q", text: "t" }, "final", "required"],
    [{ type: "metrics", timestampMs: 0, packetLossRatio: 2 }, "packetLossRatio", "<= 1"],
    [{ type: "metrics", timestampMs: 0, intraOnly: "yes" }, "intraOnly", "boolean"],
    [{ type: "region-mapp" }, "type", 'unknown message type "region-mapp"'],
  ])("parseDataChannelMessage, %j, BAD_MESSAGE naming the field", (value, field, text) => {
    const r = parseDataChannelMessage(JSON.stringify(value));
    expect(r).toMatchObject({ ok: false, error: { code: "BAD_MESSAGE", field } });
    expect(!r.ok && r.error.message).toContain(text);
  });

  it("parseDataChannelMessage, above the size limit, TOO_LARGE", () => {
    expect(parseDataChannelMessage(JSON.stringify({ ...map, pad: "x".repeat(200) }), 100)).toMatchObject({ ok: false, error: { code: "TOO_LARGE" } });
  });
});

describe("regionMapBlockCount", () => {
  it.each([
    [1920, 1080, 64, 30 * 17],
    [64, 64, 64, 1],
    [65, 1, 64, 2],
  ])("regionMapBlockCount, %ix%i in %i-px blocks, counts partial edge blocks (%i)", (w, h, b, n) => {
    expect(regionMapBlockCount(w, h, b)).toBe(n);
  });
});
