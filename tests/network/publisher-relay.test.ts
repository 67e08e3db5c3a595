/**
 * A real call through the link emulator's UDP relay: a headless publisher streams a 1280x720 clip
 * with a sign into the call server (embedded OCR engine), and every media datagram between them
 * crosses the relay: 10% independent loss on the uplink, 50 ms each way (a 100 ms round trip).
 *
 * The relay is put on the path through signalling: a proxy (tests/support/signaling-proxy.ts)
 * rewrites the server's 127.0.0.1 UDP candidate in its answer (and any trickled candidate) to the
 * relay's address, drops every other server candidate, and strips the publisher's candidates from
 * its offer, so the server learns the publisher only from checks that came through the relay. The
 * publisher itself is unchanged.
 *
 * Resilient (the server's default): the AI still reads the sign, and no frame waits on a
 * retransmission (none is negotiated, sent or asked for); the loss really happened (the relay
 * dropped ~10% of the uplink) and was handled by dropping frames, not repairing them. Classic, for
 * contrast: NACKs, retransmissions, frames recovered. Figures are printed; no wall-clock bounds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { generateClip } from "../../encoder/synth/clip.ts";
import { CallServer, type CallMetrics } from "../../sfu/call/call-server.ts";
import { type Endpoint, findCandidate, parseCandidate, type RelayCounters, rewriteCandidate, rewriteSdpCandidates, stripSdpCandidates, UdpRelay } from "../../sfu/link/index.ts";
import { WorkerOcrEngine } from "../../sfu/mllm/embedded/worker-engine.ts";
import { HeadlessPublisher, type PublisherStats } from "../../sfu/publisher/publisher.ts";
import { fetchToken } from "../../sfu/publisher/signaling-client.ts";
import { answer, sleep, waitFor } from "../support/call-helpers.ts";
import { type JsonMessage, SignalingProxy } from "../support/signaling-proxy.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const SECRET = "network-test-secret-0123456789abcdef";
const LOSS = 0.1;
const ONE_WAY_MS = 50;
let dir: string;
let clip: string;
let engine: WorkerOcrEngine;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "net-publisher-relay-"));
  clip = (await generateClip(ffmpeg, join(dir, "sign.mkv"), {
    width: 1280, height: 720, fps: 15, durationSec: 4, seed: 5, shakePx: 4,
    signs: [{ x: 760, y: 120, width: 300, height: 90, fontPx: 22, font: "sans", lines: ["GATE K42", "SEAT 18D"] }],
  })).path;
  engine = new WorkerOcrEngine();
  await engine.warmUp();
});

afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface RelayedCall {
  readonly server: CallServer;
  readonly publisher: HeadlessPublisher;
  /** Set once the server's answer has passed the proxy. */
  relay(): UdpRelay;
  /** What the proxy did to the server's candidates. */
  readonly ice: { serverCandidates: number; kept: number; dropped: number; trickled: number; trickledKept: number; offerCandidatesStripped: number; keptAddresses: string[] };
}

/**
 * Server, signalling proxy, relay and publisher. The relay starts when the server's answer passes
 * the proxy, aimed at the answer's 127.0.0.1 UDP host candidate (the server's media port).
 */
async function relayedCall(policy: "resilient" | "classic", seed: number): Promise<RelayedCall> {
  const server = new CallServer({
    secret: SECRET, ffmpeg, model: engine, receivePolicy: policy,
    // Classic gets time for a retransmission: the 100 ms round trip plus detection.
    ...(policy === "classic" ? { frameWaitMs: 300 } : {}),
    regionFinder: { find: (q, f) => engine.textRegionsForQuestion(q, f) },
  });
  const addr = await server.listen(0, "127.0.0.1");
  cleanups.push(() => server.close());
  const upstream = `ws://127.0.0.1:${addr.port}/ws`;

  let relay: UdpRelay | null = null;
  let route: { target: Endpoint; relay: Endpoint } | null = null;
  const ice = { serverCandidates: 0, kept: 0, dropped: 0, trickled: 0, trickledKept: 0, offerCandidatesStripped: 0, keptAddresses: [] as string[] };
  const proxyErrors: unknown[] = [];
  const proxy = await SignalingProxy.start({
    upstream,
    onError: (e) => proxyErrors.push(e),
    toServer: (msg) => {
      if (msg.type === "offer" && typeof msg.sdp === "string") {
        ice.offerCandidatesStripped += (msg.sdp.match(/^a=candidate:/gm) ?? []).length;
        return { ...msg, sdp: stripSdpCandidates(msg.sdp) };
      }
      // A publisher candidate would let the server reach it around the relay.
      if (msg.type === "ice") return null;
      return msg;
    },
    toClient: async (msg: JsonMessage) => {
      if (msg.type === "answer" && typeof msg.sdp === "string") {
        const target = findCandidate(msg.sdp, { address: "127.0.0.1", transport: "udp" });
        if (!target) throw new Error(`the server's answer has no 127.0.0.1 UDP candidate:\n${msg.sdp}`);
        if (!relay) {
          const r = await UdpRelay.start({
            target: { address: target.address, port: target.port },
            uplink: { delayMs: ONE_WAY_MS, loss: { kind: "bernoulli", p: LOSS } },
            downlink: { delayMs: ONE_WAY_MS },
            seed,
          });
          relay = r;
          cleanups.push(() => r.close());
        }
        route = { target: { address: target.address, port: target.port }, relay: relay.address };
        const sdp = rewriteSdpCandidates(msg.sdp, route);
        ice.serverCandidates += (msg.sdp.match(/^a=candidate:/gm) ?? []).length;
        const kept = [...sdp.matchAll(/^a=candidate:\S+ \d+ \S+ \d+ (\S+) (\d+)/gm)].map((k) => `${k[1]}:${k[2]}`);
        ice.kept += kept.length;
        ice.keptAddresses.push(...kept);
        ice.dropped = ice.serverCandidates - ice.kept;
        return { ...msg, sdp };
      }
      if (msg.type === "ice") {
        // Trickled server candidates (this server sends its answer complete, but a trickling one
        // would come here): the relayed one is rewritten, every other one dropped.
        const c = msg.candidate as { candidate: string } | null;
        if (c === null) return msg; // end of candidates
        ice.trickled++;
        const rewritten = route ? rewriteCandidate(c.candidate, route) : undefined;
        if (rewritten === undefined) return null;
        ice.trickledKept++;
        const k = parseCandidate(rewritten);
        if (k) ice.keptAddresses.push(`${k.address}:${k.port}`);
        return { ...msg, candidate: { ...c, candidate: rewritten } };
      }
      return msg;
    },
  });
  cleanups.push(() => proxy.close());

  const publisher = new HeadlessPublisher({
    serverUrl: proxy.url, token: await fetchToken(upstream, "relay", policy), iceAdditionalHostAddresses: ["127.0.0.1"],
    connectTimeoutMs: 30_000,
    encoder: { ffmpeg, input: clip, loop: true, width: 1280, height: 720, fps: 15, bitrateBps: 600_000 },
  });
  cleanups.push(() => publisher.close()); // pushed last, so closed first
  await publisher.start();
  expect(proxyErrors, "signalling proxy errors").toEqual([]);
  return {
    server, publisher, ice,
    relay: () => {
      if (!relay) throw new Error("no relay: the server's answer never passed the proxy");
      return relay;
    },
  };
}

function pick(m: CallMetrics) {
  const { receivePolicy, retransmissionsNegotiated, packetLossRate, targetFramerate, targetBitrateBps, packetsReceived, framesDecoded, framesLost, framesDroppedAtDeadline, framesSkipped,
    framesRecovered, framesSubstituted, packetsNacked, packetsMissed, packetsRecovered, keyframeRequests, frameDelayMs, receiveLatencyMs } = m;
  return { receivePolicy, retransmissionsNegotiated, packetLossRate: Number(packetLossRate.toFixed(3)), targetFramerate, targetBitrateBps, packetsReceived, framesDecoded, framesLost,
    framesDroppedAtDeadline, framesSkipped, framesRecovered, framesSubstituted, packetsNacked, packetsMissed, packetsRecovered, keyframeRequests, frameDelayMs, receiveLatencyMs };
}

function publisherFigures(s: PublisherStats) {
  return {
    packetsSent: s.packetsSent, retransmissionsNegotiated: s.retransmissionsNegotiated, nacksReceived: s.nacksReceived, packetsNacked: s.packetsNacked,
    packetsRetransmitted: s.packetsRetransmitted, intraOnly: s.intraOnly, reportedLossRate: s.reportedLossRate === null ? null : Number(s.reportedLossRate.toFixed(3)),
    keyframes: s.encoder.keyframesSent, framesSent: s.encoder.framesSent, restarts: s.encoder.restarts,
  };
}

function relayFigures(c: RelayCounters) {
  const { uplink: u, downlink: d } = c;
  return {
    uplink: { packetsIn: u.packetsIn, delivered: u.packetsDelivered, lost: u.packetsLost, lossPct: Number(((100 * u.packetsLost) / Math.max(1, u.packetsIn)).toFixed(1)), bytesIn: u.bytesIn },
    downlink: { packetsIn: d.packetsIn, delivered: d.packetsDelivered, lost: d.packetsLost, bytesIn: d.bytesIn },
    flows: c.flows, strayPackets: c.strayPackets, socketErrors: c.socketErrors,
  };
}

/** Streams through the relay, lets the loss act, asks about the sign. */
async function runCall(policy: "resilient" | "classic", seed: number) {
  const call = await relayedCall(policy, seed);
  const { server, publisher } = call;
  const metrics = () => server.metrics()[0]!;
  await waitFor(() => (server.metrics()[0]?.framesDecoded ?? 0) > 5, 30_000, "video at the server",
    () => `${JSON.stringify(server.metrics()[0] && pick(metrics()))}; relay ${JSON.stringify(relayFigures(call.relay().counters()))}`);
  // Receiver reports carry the loss to the publisher (intra-only under resilient) and the server's
  // loss window fills; then the sign is asked about.
  await sleep(6000);
  const text = await answer(publisher, "What gate number is shown on the sign?");
  const m = metrics();
  const s = publisher.stats();
  const c = call.relay().counters();
  // The publisher's selected pair: its remote end must be the relay.
  const nominated = publisher.videoSender!.dtlsTransport.iceTransport.connection.nominated;
  const figures = { server: pick(m), publisher: publisherFigures(s), relay: relayFigures(c), ice: call.ice };
  console.log(`[publisher-relay] ${policy}, seed ${seed}: answer ${JSON.stringify(text)}; frames decoded ${m.framesDecoded}, lost ${m.framesLost}, dropped at deadline ${m.framesDroppedAtDeadline}, substituted ${m.framesSubstituted}, recovered ${m.framesRecovered}; frame delay p50 ${m.frameDelayMs.p50} ms, p95 ${m.frameDelayMs.p95} ms; ${JSON.stringify(figures)}`);
  return { m, s, c, text, nominated, call, relayAddress: call.relay().address, msg: JSON.stringify(figures) };
}

describe("a headless publisher through the UDP relay (10% uplink loss, 100 ms round trip)", () => {
  it("resilient (default): the AI reads the sign, and no frame waits on a retransmission", async () => {
    const { m, s, c, text, nominated, relayAddress, call, msg } = await runCall("resilient", 42);

    // Media went through the relay, and only through it.
    // (One copy per m-section of the bundle; every candidate the publisher saw is the relay's.)
    expect(call.ice.kept, msg).toBeGreaterThan(0);
    expect(new Set(call.ice.keptAddresses), `the only server candidate the publisher saw is the relay's: ${msg}`)
      .toEqual(new Set([`${relayAddress.address}:${relayAddress.port}`]));
    expect([nominated?.remoteCandidate.host, nominated?.remoteCandidate.port], "the publisher's selected pair ends at the relay").toEqual([relayAddress.address, relayAddress.port]);
    expect(c.uplink.packetsIn, `every RTP packet the publisher sent entered the relay: ${msg}`).toBeGreaterThanOrEqual(s.packetsSent);
    expect(c.uplink.packetsDelivered, msg).toBeGreaterThanOrEqual(m.packetsReceived);
    expect(c.downlink.packetsDelivered, `the server's RTCP, STUN and SCTP came back through the relay: ${msg}`).toBeGreaterThan(10);
    expect(c.downlink.packetsLost).toBe(0);
    expect(c.strayPackets).toBe(0);
    // The loss happened, at about the configured rate.
    expect(c.uplink.packetsLost, msg).toBeGreaterThan(0);
    expect(c.uplink.packetsLost / c.uplink.packetsIn, msg).toBeGreaterThan(0.07);
    expect(c.uplink.packetsLost / c.uplink.packetsIn, msg).toBeLessThan(0.13);

    // No retransmission negotiated, asked for or sent; no frame completed by one.
    expect(m.receivePolicy).toBe("resilient");
    expect(m.retransmissionsNegotiated, "the server's answer declined generic NACK").toBe(false);
    expect(s.retransmissionsNegotiated, "the publisher read that from the answer").toBe(false);
    expect(m.packetsNacked, msg).toBe(0);
    expect(s.nacksReceived, msg).toBe(0);
    expect(s.packetsRetransmitted, msg).toBe(0);
    expect(m.framesRecovered, `no frame waited for a retransmission: ${msg}`).toBe(0);
    // The relay never reorders, so no late packet can fill a gap either.
    expect(m.packetsRecovered, msg).toBe(0);

    // The loss was handled by dropping frames, not repairing them.
    expect(m.packetsMissed, msg).toBeGreaterThan(0);
    expect(m.framesDroppedAtDeadline + m.framesLost, msg).toBeGreaterThan(0);
    expect(m.framesDecoded, msg).toBeGreaterThan(10);

    expect(text, `answer through the relay: ${text}; ${msg}`).toContain("K42");
  });

  it("classic, for contrast: NACKs cross the relay, packets are resent, frames wait for them", async () => {
    const { m, s, c, msg } = await runCall("classic", 42);
    expect(m.receivePolicy).toBe("classic");
    expect(m.retransmissionsNegotiated).toBe(true);
    expect(s.retransmissionsNegotiated).toBe(true);
    expect(c.uplink.packetsLost, msg).toBeGreaterThan(0);
    expect(s.nacksReceived, msg).toBeGreaterThan(0);
    expect(s.packetsRetransmitted, msg).toBeGreaterThan(0);
    expect(m.packetsNacked, msg).toBeGreaterThan(0);
    expect(m.framesRecovered, msg).toBeGreaterThan(0);
  });
});
