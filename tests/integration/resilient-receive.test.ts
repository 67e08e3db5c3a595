/**
 * The receive policies in a real call: a headless publisher streams a clip with a sign into the
 * call server through werift, and its RTP is dropped in-process after werift's sender cached it
 * (10% independent loss, seeded, plus one 1.2 s blackout), as a lossy link would drop it,
 * retransmissions included, and held 100 ms (so a retransmission takes a 100 ms round trip). The
 * UDP relay of sfu/link is the real link emulator; this test only needs loss and a delay.
 *
 * Resilient (the server's default): generic NACK is declined in the answer, neither our policy
 * nor werift's NackHandler (off for every policy) sends one, and the publisher resends nothing; incomplete frames are
 * dropped at their deadline, the publisher goes intra-only from the receiver reports, frames keep
 * being decoded through the loss, the previous good frame serves the MLLM's samples during the
 * blackout, and the AI still reads the sign. Classic, for contrast: NACKs flow, packets are
 * resent, and frames wait for them. The publisher here does not offer per-frame FEC, so the
 * resilient case is its fallback for a server without FEC (FEC: frame-fec.test.ts). Frame delays are printed, not asserted (no wall-clock
 * assertions in tests).
 */
import { describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { CallServer, type CallMetrics } from "../../sfu/call/call-server.ts";
import { LiveEncoder, type EncodedFrame } from "../../sfu/publisher/live-encoder.ts";
import { HeadlessPublisher } from "../../sfu/publisher/publisher.ts";
import { fetchToken } from "../../sfu/publisher/signaling-client.ts";
import { answer, lossyLink, sleep, waitFor } from "../support/call-helpers.ts";
import { cleanupsAfterEach, signClipFixture } from "../support/sign-clip.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const SECRET = "integration-test-secret-0123456789abcdef";

const fx = signClipFixture("it-resilient-", {
  width: 640, height: 360, fps: 15, durationSec: 4, seed: 3, shakePx: 4,
  signs: [{ x: 360, y: 40, width: 220, height: 70, fontPx: 18, lines: ["GATE K42", "SEAT 18D"] }],
});

async function lossyCall(policy: "resilient" | "classic", seed: number) {
  const server = new CallServer({
    secret: SECRET, ffmpeg, model: fx.engine, receivePolicy: policy,
    // The publisher offers no FEC here, which by default gets a browser's path (classic): the
    // policy under test is asked for explicitly.
    browserReceivePolicy: policy,
    // Classic gets time for a retransmission: a 100 ms round trip plus detection.
    ...(policy === "classic" ? { frameWaitMs: 300 } : {}),
    regionFinder: fx.regionFinder,
    analysisWidth: 640, analysisHeight: 360,
  });
  const addr = await server.listen(0, "127.0.0.1");
  const url = `ws://127.0.0.1:${addr.port}/ws`;
  const publisher = new HeadlessPublisher({
    serverUrl: url, token: await fetchToken(url, "lossy", policy), iceAdditionalHostAddresses: ["127.0.0.1"],
    // The policies alone, without the per-frame FEC the publisher offers by default (that is
    // tests/integration/frame-fec.test.ts): under resilient, this is the intra-only fallback.
    fec: false,
    encoder: { ffmpeg, input: fx.clip, loop: true, width: 640, height: 360, fps: 15, bitrateBps: 300_000, speed: "ultrafast" },
  });
  await publisher.start();
  const link = lossyLink(publisher, 0.1, seed, 100);
  const metrics = () => server.metrics()[0]!;
  try {
    await waitFor(() => (server.metrics()[0]?.framesDecoded ?? 0) > 10, 15_000, "video at the server");
    link.on = true;
    await sleep(3000);
    link.blackout = true;
    await sleep(1200);
    link.blackout = false;
    const before = metrics();
    link.countFrames();
    await sleep(4000);
    link.stopCountingNewFrames();
    // The last frames recorded are still on the 100 ms link or in the decoder.
    await sleep(500);
    const after = metrics();
    const decodedDuring = after.framesDecoded - before.framesDecoded;
    const skippedDuring = after.framesSkipped - before.framesSkipped;
    const framesSent = link.frames.size;
    const wholeFrames = link.wholeFrames;
    const text = await answer(publisher, "What gate number is shown on the sign?");
    const m = metrics();
    const s = publisher.stats();
    link.on = false;
    console.log(`[resilient-receive] ${policy}: link sent ${link.sent}, dropped ${link.dropped}; server ${JSON.stringify(pick(m))}; publisher nacks ${s.nacksReceived} (${s.packetsNacked} seqs), resent ${s.packetsRetransmitted}, intra-only ${s.intraOnly}, reported loss ${s.reportedLossRate?.toFixed(3)}, keyframes ${s.encoder.keyframesSent}/${s.encoder.framesSent}, restarts ${s.encoder.restarts}; in 4 s of 10% loss ${framesSent} frames sent, ${wholeFrames} reached the server whole, ${decodedDuring} decoded, ${skippedDuring} skipped for a lost reference; answer: ${text}`);
    return { m, s, text, decodedDuring, skippedDuring, framesSent, wholeFrames };
  } finally {
    await publisher.close();
    await server.close();
  }
}

function pick(m: CallMetrics) {
  const { receivePolicy, retransmissionsNegotiated, packetLossRate, targetFramerate, targetBitrateBps, framesDecoded, framesLost, framesDroppedAtDeadline, framesSkipped,
    framesRecovered, framesSubstituted, packetsNacked, packetsMissed, packetsRecovered, keyframeRequests, frameDelayMs, receiveLatencyMs } = m;
  return { receivePolicy, retransmissionsNegotiated, packetLossRate: Number(packetLossRate.toFixed(3)), targetFramerate, targetBitrateBps, framesDecoded, framesLost,
    framesDroppedAtDeadline, framesSkipped, framesRecovered, framesSubstituted, packetsNacked, packetsMissed, packetsRecovered, keyframeRequests, frameDelayMs, receiveLatencyMs };
}

describe("receive policies under 10% loss", () => {
  it("resilient (default): no NACK is sent and nothing is resent; lost frames are dropped, the previous frame stands in, the AI reads the sign", async () => {
    const { m, s, text, decodedDuring, skippedDuring, framesSent, wholeFrames } = await lossyCall("resilient", 11);
    const msg = JSON.stringify(pick(m));
    expect(m.receivePolicy).toBe("resilient");
    expect(m.retransmissionsNegotiated, "the server's answer declined generic NACK").toBe(false);
    expect(s.retransmissionsNegotiated, "the publisher read that from the answer").toBe(false);
    expect(s.nacksReceived, "NACK packets at the publisher").toBe(0);
    expect(s.packetsRetransmitted, "packets resent by the publisher").toBe(0);
    expect(m.packetsNacked, msg).toBe(0);
    expect(m.framesRecovered, `no frame waited for a retransmission: ${msg}`).toBe(0);
    expect(m.packetLossRate, msg).toBeGreaterThan(0.03);
    expect(m.framesDroppedAtDeadline, msg).toBeGreaterThan(5);
    expect(m.framesSubstituted, `samples served by the previous good frame: ${msg}`).toBeGreaterThan(0);
    expect(s.intraOnly, "the publisher sends every frame as a keyframe on a lossy link").toBe(true);
    // Frames keep coming through the loss: each intra frame stands alone, so every frame that
    // reached the server whole is decoded and none waits for a reference that was lost. (How many
    // arrive whole is the link's dice on the frames the server asked for: intra frames of 60 kbit,
    // 5-8 packets, at 4-6 fps once the blackout has cut the rate, of which 0.9^7 = 48% survive.)
    const counts = `${framesSent} frames sent in the 4 s, ${wholeFrames} whole at the link, ${decodedDuring} decoded, ${skippedDuring} skipped: ${msg}`;
    expect(wholeFrames, counts).toBeGreaterThan(0);
    expect(decodedDuring, counts).toBeGreaterThanOrEqual(wholeFrames);
    expect(skippedDuring, counts).toBe(0);
    expect(text, `answer under loss: ${text}`).toContain("K42");
  });

  it("classic: NACKs reach the publisher, packets are resent, and frames wait for them", async () => {
    const { m, s } = await lossyCall("classic", 11);
    const msg = JSON.stringify(pick(m));
    expect(m.receivePolicy).toBe("classic");
    expect(m.retransmissionsNegotiated).toBe(true);
    expect(s.retransmissionsNegotiated).toBe(true);
    expect(s.intraOnly).toBe(false);
    expect(s.nacksReceived).toBeGreaterThan(0);
    expect(s.packetsRetransmitted).toBeGreaterThan(0);
    expect(m.framesRecovered, msg).toBeGreaterThan(0);
  });
});

describe("LiveEncoder intra-only (what the publisher sends when no loss is repaired)", () => {
  it("setIntraOnly, at 10 fps and a 200 kbps cap, makes every frame a keyframe and keeps the bitrate within the cap, in H.264 and VP8", async () => {
    const runs = (["h264", "vp8"] as const).map((codec) => {
      const enc = new LiveEncoder({ ffmpeg, input: fx.clip, loop: true, width: 640, height: 360, fps: 15, bitrateBps: 200_000, codec, speed: codec === "h264" ? "ultrafast" : undefined });
      const frames: EncodedFrame[] = [];
      enc.events.on("frame", (f) => frames.push(f));
      return { codec, enc, frames };
    });
    await Promise.all(runs.map((r) => r.enc.start()));
    for (const r of runs) {
      r.enc.setRate({ maxFramerate: 10 });
      r.enc.setIntraOnly(true);
    }
    await sleep(4500);
    // The counted window (0.5-3.5 s after the restart) must be over before the encoders close.
    const windowOver = () => runs.every((r) => {
      const g = r.frames.filter((f) => f.generation === 2);
      return g.length > 0 && g[g.length - 1]!.captureMs >= g[0]!.captureMs + 3500;
    });
    await waitFor(windowOver, 5000, "frames past the counted window from both encoders");
    await Promise.all(runs.map((r) => r.enc.close()));
    for (const r of runs) {
      const g = r.frames.filter((f) => f.generation === 2);
      const from = g[0]!.captureMs + 500;
      const window = g.filter((f) => f.captureMs >= from && f.captureMs < from + 3000);
      const kbps = (window.reduce((n, f) => n + f.data.length, 0) * 8) / 3000;
      const msg = `${r.codec}: ${window.length} frames in 3 s, ${window.filter((f) => f.keyframe).length} keyframes, ${kbps.toFixed(0)} kbps; counters ${JSON.stringify(r.enc.counters)}`;
      console.log(`[resilient-receive] intra-only ${msg}`);
      expect(r.enc.counters.restarts, "the rate and intra-only share one restart").toBe(1);
      expect(window.every((f) => f.keyframe), msg).toBe(true);
      expect(window.length / 3, msg).toBeGreaterThanOrEqual(8.5);
      expect(kbps, msg).toBeLessThanOrEqual(200 * 1.15);
    }
  });
});
