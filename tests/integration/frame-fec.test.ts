/**
 * Per-frame FEC end to end over real werift peers on 127.0.0.1: the headless publisher offers a
 * parity m-section (`video/x-frame-fec`, sfu/publisher/peer.ts) next to its video; the call server
 * under the resilient policy takes it, feeds the parity to a FrameFecReceiver before the jitter
 * buffer and pushes the media packets it rebuilds into the buffer (room-media.ts, receive-path.ts).
 *
 * Loss is injected as in resilient-receive.test.ts: RTP dropped in-process after werift's sender
 * (seeded, 10%), parity included since both streams share the bundled transport, and held 50 ms.
 *
 * Negotiation is checked both ways: a classic server and a resilient server with `fec: false`
 * decline the m-section (answered inactive) and the publisher sends the video alone (with NACK,
 * or intra-only on loss); a server that knows nothing of FEC fails the offer, and the publisher
 * leaves and joins again without it (checked by hand against the call server before FEC too).
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { RTCPeerConnection } from "werift";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { serializeRtp } from "../../encoder/rtp/packet.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";
import { CallServer, type CallMetrics } from "../../sfu/call/call-server.ts";
import { DEFAULT_MIN_BITS_PER_INTRA_FRAME } from "../../sfu/media/frame-rate-target.ts";
import type { FecBudget } from "../../sfu/publisher/fec-budget.ts";
import { videoCodecParameters } from "../../sfu/publisher/peer.ts";
import { HeadlessPublisher } from "../../sfu/publisher/publisher.ts";
import { fetchToken } from "../../sfu/publisher/signaling-client.ts";
import { SignalingServer } from "../../sfu/signaling/server.ts";
import type { SignalingHandlers } from "../../sfu/signaling/types.ts";
import { answer, lossyLink, sleep, waitFor } from "../support/call-helpers.ts";
import { cleanupsAfterEach, signClipFixture } from "../support/sign-clip.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const SECRET = "integration-test-secret-0123456789abcdef";

const cleanups = cleanupsAfterEach();

const fx = signClipFixture("it-frame-fec-", {
  width: 640, height: 360, fps: 15, durationSec: 4, seed: 3, shakePx: 4,
  signs: [{ x: 360, y: 40, width: 220, height: 70, fontPx: 18, lines: ["GATE K42", "SEAT 18D"] }],
});

async function call(policy: "resilient" | "classic", serverFec = true, normalRate?: { maxBitrateBps: number; maxFramerate: number }) {
  const server = new CallServer({
    secret: SECRET, ffmpeg, model: fx.engine, receivePolicy: policy, fec: serverFec, ...(normalRate ? { normalRate } : {}),
    ...(policy === "classic" ? { frameWaitMs: 300 } : {}),
    regionFinder: fx.regionFinder,
    analysisWidth: 640, analysisHeight: 360,
  });
  const addr = await server.listen(0, "127.0.0.1");
  cleanups.push(() => server.close());
  const url = `ws://127.0.0.1:${addr.port}/ws`;
  const publisher = new HeadlessPublisher({
    serverUrl: url, token: await fetchToken(url, "fec", `${policy}-${serverFec}`), iceAdditionalHostAddresses: ["127.0.0.1"],
    encoder: { ffmpeg, input: fx.clip, loop: true, width: 640, height: 360, fps: 15, bitrateBps: 300_000, speed: "ultrafast" },
  });
  cleanups.push(() => publisher.close());
  await publisher.start();
  const metrics = () => server.metrics()[0]!;
  await waitFor(() => (server.metrics()[0]?.framesDecoded ?? 0) > 10, 15_000, "video at the server");
  return { server, publisher, metrics, port: addr.port };
}

function pick(m: CallMetrics) {
  const { receivePolicy, retransmissionsNegotiated, fecNegotiated, senderIntraOnly, fec, packetLossRate, targetFramerate, targetBitrateBps, framesDecoded, framesDroppedAtDeadline,
    framesRecovered, packetsMissed, packetsRecovered, packetsNacked, packetsMalformed } = m;
  return { receivePolicy, retransmissionsNegotiated, fecNegotiated, senderIntraOnly, fec, packetLossRate: Number(packetLossRate.toFixed(3)), targetFramerate, targetBitrateBps, framesDecoded,
    framesDroppedAtDeadline, framesRecovered, packetsMissed, packetsRecovered, packetsNacked, packetsMalformed };
}

describe("per-frame FEC between the headless publisher and the call server", () => {
  it("resilient: FEC is negotiated, parity flows once the link loses packets, rebuilt packets complete frames, the encoder leaves room for the parity, and the AI reads the sign", async () => {
    const { server, publisher, metrics, port } = await call("resilient");
    const budgets: FecBudget[] = [];
    publisher.events.on("fec-budget", (b) => budgets.push(b));
    const clean = metrics();
    expect(clean.fecNegotiated, "the server took the parity m-section").toBe(true);
    expect(publisher.stats().fec.negotiated, "the publisher read that from the answer").toBe(true);
    expect(publisher.fecSender, "the parity has its own werift sender").not.toBe(null);
    expect(publisher.fecSender!.ssrc).not.toBe(publisher.videoSender!.ssrc);
    expect(clean.retransmissionsNegotiated).toBe(false);
    // No loss yet: no receiver report says so, so no frame gets parity.
    expect(clean.fec, JSON.stringify(pick(clean))).toEqual({ parityReceived: 0, packetsRecovered: 0, framesRepaired: 0, groupsUnrepaired: 0, malformed: 0 });

    const link = lossyLink(publisher, 0.1, 7, 50);
    link.on = true;
    await waitFor(() => (metrics().fec?.framesRepaired ?? 0) >= 3, 20_000, "frames repaired by FEC", () => JSON.stringify(pick(metrics())));
    const decodedBefore = metrics().framesDecoded;
    await sleep(3000);
    const text = await answer(publisher, "What gate number is shown on the sign?");
    const m = metrics();
    const s = publisher.stats();
    link.on = false;
    const msg = `link sent ${link.sent}, dropped ${link.dropped}; server ${JSON.stringify(pick(m))}; publisher fec ${JSON.stringify(s.fec)}, cap ${s.bitrateCapBps}, intra-only ${s.intraOnly}, loss ${s.reportedLossRate?.toFixed(3)}, restarts ${s.encoder.restarts}; budgets ${JSON.stringify(budgets.map((b) => [b.lossRate.toFixed(3), b.mediaBps, b.k, b.m]))}`;
    console.log(`[frame-fec] resilient: ${msg}; answer: ${text}`);

    expect(link.dropped, msg).toBeGreaterThan(10);
    expect(s.fec.parityPacketsSent, msg).toBeGreaterThan(0);
    expect(m.fec!.parityReceived, msg).toBeGreaterThan(0);
    expect(m.fec!.parityReceived, "no more parity arrives than was sent").toBeLessThanOrEqual(s.fec.parityPacketsSent);
    expect(m.fec!.packetsRecovered, msg).toBeGreaterThan(0);
    expect(m.fec!.framesRepaired, msg).toBeGreaterThan(0);
    expect(m.fec!.malformed, msg).toBe(0);
    // Nothing is resent and nothing reorders: every gap filled in time was filled by the FEC.
    expect(m.packetsNacked, msg).toBe(0);
    expect(s.nacksReceived, msg).toBe(0);
    expect(s.packetsRetransmitted, msg).toBe(0);
    expect(m.packetsRecovered, msg).toBeLessThanOrEqual(m.fec!.packetsRecovered);
    expect(m.framesRecovered, msg).toBeGreaterThan(0);
    // With FEC the publisher keeps its long GOP instead of going intra-only.
    expect(s.intraOnly, msg).toBe(false);
    expect(s.encoder.keyframesSent, msg).toBeLessThan(s.encoder.framesSent / 3);
    // The parity comes out of the bitrate: the encoder runs below the cap once loss is reported.
    expect(budgets.some((b) => b.m > 0 && b.mediaBps < b.capBps), msg).toBe(true);
    expect(s.fec.mediaBitrateBps!, msg).toBeLessThan(s.bitrateCapBps);
    expect(m.framesDecoded - decodedBefore, msg).toBeGreaterThan(10);
    expect(text, `answer under loss with FEC: ${text}; ${msg}`).toContain("K42");
    // The counters are served next to the other receive metrics.
    const served = (await (await fetch(`http://127.0.0.1:${port}/api/metrics`)).json()) as { calls: CallMetrics[] };
    expect(served.calls[0]!.fecNegotiated).toBe(true);
    expect(served.calls[0]!.fec!.framesRepaired).toBeGreaterThanOrEqual(m.fec!.framesRepaired);
    expect(Object.keys(served.calls[0]!.fec!).sort()).toEqual(["framesRepaired", "groupsUnrepaired", "malformed", "packetsRecovered", "parityReceived"]);

    // Malformed parity (random bytes on the parity stream) is counted, and the call goes on.
    const rng = mulberry32(5);
    const sender = publisher.fecSender!;
    for (let i = 0; i < 20; i++) {
      const payload = Uint8Array.from({ length: 5 + Math.floor(rng() * 200) }, () => Math.floor(rng() * 256));
      await sender.sendRtp(Buffer.from(serializeRtp({ marker: true, payloadType: 0, sequenceNumber: 40_000 + i, timestamp: i, ssrc: 0, payload })));
    }
    const decoded = metrics().framesDecoded;
    await waitFor(() => (metrics().fec?.malformed ?? 0) >= 15 && metrics().framesDecoded > decoded + 5, 10_000, "malformed parity counted, video going on", () => JSON.stringify(pick(metrics())));
    expect(server.participantCount).toBe(1);
  });

  it("classic: the server declines the parity m-section (answered inactive), the publisher sends the video alone and NACK repairs", async () => {
    const { publisher, metrics } = await call("classic");
    const link = lossyLink(publisher, 0.1, 7, 50);
    link.on = true;
    await waitFor(() => publisher.stats().nacksReceived > 0, 15_000, "NACKs at the publisher");
    const m = metrics();
    const s = publisher.stats();
    const msg = `server ${JSON.stringify(pick(m))}; publisher fec ${JSON.stringify(s.fec)}`;
    expect(m.fecNegotiated, msg).toBe(false);
    expect(m.fec, msg).toBe(null);
    expect(s.fec.offered, msg).toBe(true);
    expect(s.fec.negotiated, msg).toBe(false);
    expect(publisher.fecSender).toBe(null);
    expect(s.fec.parityPacketsSent, msg).toBe(0);
    expect(m.retransmissionsNegotiated).toBe(true);
    expect(s.intraOnly).toBe(false);
  });

  it("a resilient server and a publisher that offers no FEC (as a browser): the sender gets the classic path, NACK negotiated", async () => {
    const server = new CallServer({ secret: SECRET, ffmpeg, model: fx.engine, regionFinder: null, analysisWidth: 640, analysisHeight: 360 });
    const addr = await server.listen(0, "127.0.0.1");
    cleanups.push(() => server.close());
    const url = `ws://127.0.0.1:${addr.port}/ws`;
    const publisher = new HeadlessPublisher({
      serverUrl: url, token: await fetchToken(url, "plain", "alice"), iceAdditionalHostAddresses: ["127.0.0.1"], fec: false,
      encoder: { ffmpeg, input: fx.clip, loop: true, width: 640, height: 360, fps: 15, bitrateBps: 300_000, speed: "ultrafast" },
    });
    cleanups.push(() => publisher.close());
    await publisher.start();
    await waitFor(() => (server.metrics()[0]?.framesDecoded ?? 0) > 10, 15_000, "video at the server");
    const m = server.metrics()[0]!;
    expect(m.receivePolicy).toBe("classic");
    expect(m.retransmissionsNegotiated).toBe(true);
    expect(m.fecNegotiated).toBe(false);
    expect(publisher.stats().retransmissionsNegotiated).toBe(true);
    // Classic's frame rate is the agent's, not the resilient frame-rate target.
    await waitFor(() => server.metrics()[0]!.targetFramerate !== null, 5000, "a rate target");
    expect(server.metrics()[0]!.targetFramerate).toBe(15);
  });

  it("resilient with fec: false: declined, and the publisher falls back to intra-only frames on a lossy link", async () => {
    // 300 kbps (not the default 600): there inter and intra frames get different frame rates.
    const { publisher, metrics } = await call("resilient", false, { maxBitrateBps: 300_000, maxFramerate: 15 });
    const link = lossyLink(publisher, 0.1, 7, 50);
    link.on = true;
    await waitFor(() => publisher.stats().intraOnly, 15_000, "intra-only at the publisher");
    const m = metrics();
    const s = publisher.stats();
    const msg = `server ${JSON.stringify(pick(m))}; publisher fec ${JSON.stringify(s.fec)}`;
    expect(m.fecNegotiated, msg).toBe(false);
    expect(s.fec.negotiated, msg).toBe(false);
    expect(s.fec.parityPacketsSent, msg).toBe(0);
    expect(m.retransmissionsNegotiated).toBe(false);
    // The publisher tells the server, whose frame-rate target then budgets intra frames: at most
    // one frame per DEFAULT_MIN_BITS_PER_INTRA_FRAME bits (at 300 kbps, 5 fps; inter frames: 10).
    await waitFor(() => metrics().senderIntraOnly, 10_000, "the server to hear of intra-only");
    await waitFor(() => {
      const t = metrics();
      return t.targetFramerate !== null && t.targetBitrateBps !== null && t.targetFramerate * DEFAULT_MIN_BITS_PER_INTRA_FRAME <= t.targetBitrateBps;
    }, 10_000, "a rate target for intra frames");
    const t = metrics();
    expect(t.targetFramerate!, JSON.stringify(pick(t))).toBeGreaterThan(0);
  });

  it("a server that knows nothing of FEC fails the offer; the publisher leaves, joins again offering the video alone, and the call works", async () => {
    let frames = 0;
    let offers = 0;
    let joins = 0;
    let leaves = 0;
    const pcs: RTCPeerConnection[] = [];
    const handlers: SignalingHandlers = {
      onJoin() {
        joins++;
      },
      async onOffer(peer, sdp) {
        offers++;
        // An answerer as a server predating FEC has it: H.264 only.
        const pc = new RTCPeerConnection({ codecs: { video: [videoCodecParameters("h264")] }, iceAdditionalHostAddresses: ["127.0.0.1"], bundlePolicy: "max-bundle" });
        pcs.push(pc);
        pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => rtp.header.marker && frames++));
        await pc.setRemoteDescription({ type: "offer", sdp }); // throws on the parity m-section: "negotiate codecs failed"
        await pc.setLocalDescription(await pc.createAnswer());
        peer.send({ type: "answer", sdp: pc.localDescription!.sdp });
      },
      onAnswer() {},
      async onIce(_peer, c) {
        await pcs[pcs.length - 1]?.addIceCandidate(c === null ? null : { candidate: c.candidate, sdpMid: c.sdpMid ?? undefined, sdpMLineIndex: c.sdpMLineIndex ?? undefined });
      },
      onChat() {},
      onLeave() {
        leaves++;
      },
    };
    const signaling = new SignalingServer({ secret: randomBytes(32), handlers });
    const { port } = await signaling.listen(0, "127.0.0.1");
    cleanups.push(async () => {
      await Promise.all(pcs.map((pc) => pc.close()));
      await signaling.close();
    });
    const url = `ws://127.0.0.1:${port}/ws`;
    const publisher = new HeadlessPublisher({
      serverUrl: url, token: await fetchToken(url, "old", "cam"), iceAdditionalHostAddresses: ["127.0.0.1"],
      encoder: { ffmpeg, input: fx.clip, loop: true, width: 640, height: 360, fps: 15, bitrateBps: 300_000, speed: "ultrafast" },
    });
    cleanups.push(() => publisher.close());
    await publisher.start();
    await waitFor(() => frames > 10, 15_000, "frames at the FEC-unaware answerer");
    const s = publisher.stats();
    expect(offers, "one offer with the parity m-section, refused; one without").toBe(2);
    expect([joins, leaves], "a fresh session for the second offer (a server's peer connection is spoiled by the first)").toEqual([2, 1]);
    expect(s.fec.offered).toBe(false);
    expect(s.fec.negotiated).toBe(false);
  });
});
