/**
 * The call server end to end: a headless publisher streams a synthetic clip with small text on a
 * sign into the server through werift; a question goes over the data channel; the AI peer (the
 * embedded engine) answers with the sign's text. The region map it sends lets the server lower the
 * publisher's rate by 60% while the sign stays readable; a control call at that same lower rate
 * with the map withheld does not read it. Both measured here, so the gain is the map's.
 */
import { describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import type { ClipSpec } from "../../encoder/synth/clip.ts";
import { CallServer } from "../../sfu/call/call-server.ts";
import { HeadlessPublisher } from "../../sfu/publisher/publisher.ts";
import { answer, sleep, waitFor } from "../support/call-helpers.ts";
import { cleanupsAfterEach, signClipFixture } from "../support/sign-clip.ts";
import { fetchToken } from "../../sfu/publisher/signaling-client.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const SECRET = "integration-test-secret-0123456789abcdef";
const HIGH = { maxBitrateBps: 600_000, maxFramerate: 15 };
const LOW = { maxBitrateBps: 160_000, maxFramerate: 15 };

const spec: ClipSpec = {
  width: 1280, height: 720, fps: 30, durationSec: 8, seed: 5, shakePx: 6,
  signs: [
    { x: 760, y: 120, width: 280, height: 86, fontPx: 18, font: "sans", lines: ["GATE K42", "OPENS 7:58 PM", "SEAT 18D"] },
    { x: 80, y: 160, width: 240, height: 70, fontPx: 22, font: "sans", lines: ["WELCOME", "OPEN DAILY"], backgroundColor: "0xe8e0d0" },
  ],
};

const fx = signClipFixture("it-call-", spec, "sign.mkv");

async function startCall(opts: { sendMaps: boolean; normal: typeof HIGH; codec?: "h264" | "vp8" }) {
  const server = new CallServer({
    secret: SECRET, ffmpeg, model: fx.engine,
    regionFinder: fx.regionFinder,
    normalRate: opts.normal, mappedRate: LOW, sendMaps: opts.sendMaps,
    // The map's gain is measured at 15 fps, where LOW's control margin was set. Left free, the
    // resilient policy's frame-rate target takes a loss-free call to 7 fps, doubling the bits per
    // frame: the control then read the seat in 1 of 5 runs at 160 kbps. That gain is the frame
    // rate's, not the map's, so 15 fps is held here: a 1/15 s freshness floor, and LOW's bits per
    // frame at 15 fps counted as enough (sfu/media/frame-rate-target.ts).
    frameRate: { maxFrameAgeMs: 1000 / 15, minBitsPerFrame: LOW.maxBitrateBps / 15 },
  });
  const addr = await server.listen(0, "127.0.0.1");
  const url = `ws://127.0.0.1:${addr.port}/ws`;
  const token = await fetchToken(url, "room1", "alice");
  const publisher = new HeadlessPublisher({
    serverUrl: url, token, iceAdditionalHostAddresses: ["127.0.0.1"],
    encoder: { ffmpeg, input: fx.clip, loop: true, width: 1280, height: 720, fps: 15, bitrateBps: HIGH.maxBitrateBps, codec: opts.codec ?? "h264" },
  });
  await publisher.start();
  return { server, publisher };
}

/** Mean of the publisher's 1-second bitrate over a window, sampled every 250 ms. */
async function meanBitrate(p: HeadlessPublisher, ms: number): Promise<number> {
  const xs: number[] = [];
  for (let t = 0; t < ms; t += 250) {
    await sleep(250);
    xs.push(p.stats().bitrateBps);
  }
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

describe("call server with a headless publisher and the embedded engine", () => {
  it("answers the sign's text, then holds it readable after the map cuts the bitrate by at least 40%", async () => {
    const { server, publisher } = await startCall({ sendMaps: true, normal: HIGH });
    try {
      await waitFor(() => (server.metrics()[0]?.frameRate ?? 0) > 5, 20_000, "video at the server");
      const before = await meanBitrate(publisher, 3000);
      const first = await answer(publisher, "What gate number is shown on the sign?");
      expect(first, `answer: ${first}`).toContain("K42");
      await waitFor(() => publisher.stats().mapVersion !== null, 10_000, "the region map at the publisher");
      await sleep(2000); // the encoder restarts with the map and the lower cap
      const after = await meanBitrate(publisher, 3000);
      expect(after / before, `bitrate before ${before.toFixed(0)} bps, after ${after.toFixed(0)} bps`).toBeLessThanOrEqual(0.6);
      const second = await answer(publisher, "Which seat is written on the sign?");
      expect(second, `answer at ${after.toFixed(0)} bps with the map: ${second}`).toContain("18D");
      const m = server.metrics()[0]!;
      expect(m.questions.length).toBe(2);
      expect(m.questions.every((q) => q.firstTokenMs !== null)).toBe(true);
      expect(m.framesLost).toBe(0);
      // Transport-wide CC: the server's feedback reaches the publisher's congestion window. (How
      // many frames it holds back is not asserted: feedback held up by a busy server event loop
      // looks like a queue, and a clean-clone run held one frame back on loopback.)
      const cw = publisher.stats().congestionWindow;
      expect(cw, "transport-cc negotiated").not.toBeNull();
      expect(cw!.feedbackRttMs, "feedback arrived").not.toBeNull();
      expect(cw!.windowBytes).toBeGreaterThan(0);
    } finally {
      await publisher.close();
      await server.close();
    }
  });

  it("control: at the same lower bitrate with the map withheld, does not read the sign", async () => {
    const { server, publisher } = await startCall({ sendMaps: false, normal: LOW });
    try {
      await waitFor(() => (server.metrics()[0]?.frameRate ?? 0) > 5, 20_000, "video at the server");
      await sleep(2000);
      const rate = await meanBitrate(publisher, 2000);
      expect(rate).toBeLessThanOrEqual(LOW.maxBitrateBps * 1.2);
      const text = await answer(publisher, "Which seat is written on the sign?");
      expect(publisher.stats().mapVersion).toBeNull();
      expect(text, `answer at ${rate.toFixed(0)} bps without the map: ${text}`).not.toContain("18D");
    } finally {
      await publisher.close();
      await server.close();
    }
  });

  it("with a VP8 publisher (maps applied by the pre-filter), answers the sign's text and keeps near the lower cap", async () => {
    const { server, publisher } = await startCall({ sendMaps: true, normal: HIGH, codec: "vp8" });
    try {
      await waitFor(() => (server.metrics()[0]?.frameRate ?? 0) > 5, 20_000, "video at the server");
      expect(await answer(publisher, "What gate number is shown on the sign?")).toContain("K42");
      await waitFor(() => publisher.stats().mapVersion !== null, 10_000, "the region map at the publisher");
      await sleep(2000);
      const after = await meanBitrate(publisher, 2000);
      // libvpx with ROI segments overshot a 240 kbps cap to 750 kbps; with the pre-filter it holds.
      expect(after, `VP8 bitrate with the map ${after.toFixed(0)} bps`).toBeLessThanOrEqual(LOW.maxBitrateBps * 1.3);
    } finally {
      await publisher.close();
      await server.close();
    }
  });
});
