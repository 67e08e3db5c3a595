/**
 * A real call through the link emulator's UDP relay: call server, signalling proxy, relay and a
 * headless publisher. The relay is put on the path through signalling: the proxy
 * (signaling-proxy.ts) rewrites the server's 127.0.0.1 UDP candidate in its answer (and any
 * trickled candidate) to the relay's address, drops every other server candidate, and strips the
 * publisher's candidates from its offer, so the server learns the publisher only from checks that
 * came through the relay. The publisher itself is unchanged.
 */
import { expect } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import type { ClipSpec } from "../../encoder/synth/clip.ts";
import { CallServer, type CallMetrics, type CallServerOptions } from "../../sfu/call/call-server.ts";
import { type Endpoint, findCandidate, type LinkConfig, parseCandidate, type RelayCounters, rewriteCandidate, rewriteSdpCandidates, stripSdpCandidates, UdpRelay } from "../../sfu/link/index.ts";
import { HeadlessPublisher, type PublisherStats } from "../../sfu/publisher/publisher.ts";
import { fetchToken } from "../../sfu/publisher/signaling-client.ts";
import type { SignClipFixture } from "./sign-clip.ts";
import { type JsonMessage, SignalingProxy } from "./signaling-proxy.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;

/** The relay suites' clip: a 1280x720 sign reading GATE K42 / SEAT 18D, asked "What gate number...". */
export const RELAY_SIGN_CLIP: ClipSpec = {
  width: 1280, height: 720, fps: 15, durationSec: 4, seed: 5, shakePx: 4,
  signs: [{ x: 760, y: 120, width: 300, height: 90, fontPx: 22, font: "sans", lines: ["GATE K42", "SEAT 18D"] }],
};
const SECRET = "network-test-secret-0123456789abcdef";

export interface RelayedCallOptions {
  readonly fx: SignClipFixture;
  readonly cleanups: Array<() => Promise<unknown> | unknown>;
  readonly policy: "resilient" | "classic";
  readonly seed: number;
  readonly publisherFec: boolean;
  readonly uplink: LinkConfig;
  readonly downlink: LinkConfig;
  /** The publisher's congestion window on transport feedback (default on, as the publisher). */
  readonly publisherCongestionWindow?: boolean;
  /** The publisher's configured bitrate. Default 600 kbps. */
  readonly bitrateBps?: number;
  /** More call-server options (the test's own). */
  readonly server?: Partial<CallServerOptions>;
}

export interface RelayedCall {
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
export async function relayedCall(o: RelayedCallOptions): Promise<RelayedCall> {
  const { fx, cleanups, policy, seed, publisherFec } = o;
  const server = new CallServer({
    ...o.server,
    secret: SECRET, ffmpeg, model: fx.engine, receivePolicy: policy,
    // The policy under test also for a publisher that offers no FEC (by default the server gives
    // such a sender, a browser's kind, the classic path).
    browserReceivePolicy: policy,
    // Classic gets time for a retransmission: the 100 ms round trip plus detection.
    ...(policy === "classic" ? { frameWaitMs: 300, browserFrameWaitMs: 300 } : {}),
    regionFinder: fx.regionFinder,
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
            uplink: o.uplink,
            downlink: o.downlink,
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
    fec: publisherFec,
    ...(o.publisherCongestionWindow !== undefined ? { congestionWindow: o.publisherCongestionWindow } : {}),
    encoder: { ffmpeg, input: fx.clip, loop: true, width: 1280, height: 720, fps: 15, bitrateBps: o.bitrateBps ?? 600_000 },
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

/** The server's per-call figures a relay test prints. */
export function pick(m: CallMetrics) {
  const { receivePolicy, retransmissionsNegotiated, packetLossRate, targetFramerate, targetBitrateBps, packetsReceived, framesDecoded, framesLost, framesDroppedAtDeadline, framesSkipped,
    framesRecovered, framesSubstituted, packetsNacked, packetsMissed, packetsRecovered, keyframeRequests, frameDelayMs, receiveLatencyMs, fecNegotiated, fec } = m;
  return { receivePolicy, retransmissionsNegotiated, packetLossRate: Number(packetLossRate.toFixed(3)), targetFramerate, targetBitrateBps, packetsReceived, framesDecoded, framesLost,
    framesDroppedAtDeadline, framesSkipped, framesRecovered, framesSubstituted, packetsNacked, packetsMissed, packetsRecovered, keyframeRequests, frameDelayMs, receiveLatencyMs, fecNegotiated, fec };
}

export function publisherFigures(s: PublisherStats) {
  return {
    packetsSent: s.packetsSent, retransmissionsNegotiated: s.retransmissionsNegotiated, nacksReceived: s.nacksReceived, packetsNacked: s.packetsNacked,
    packetsRetransmitted: s.packetsRetransmitted, intraOnly: s.intraOnly, reportedLossRate: s.reportedLossRate === null ? null : Number(s.reportedLossRate.toFixed(3)),
    keyframes: s.encoder.keyframesSent, framesSent: s.encoder.framesSent, restarts: s.encoder.restarts, mediaBytes: s.encoder.bytesSent,
    fec: s.fec,
  };
}

export function relayFigures(c: RelayCounters) {
  const { uplink: u, downlink: d } = c;
  return {
    uplink: { packetsIn: u.packetsIn, delivered: u.packetsDelivered, lost: u.packetsLost, lossPct: Number(((100 * u.packetsLost) / Math.max(1, u.packetsIn)).toFixed(1)), bytesIn: u.bytesIn },
    downlink: { packetsIn: d.packetsIn, delivered: d.packetsDelivered, lost: d.packetsLost, bytesIn: d.bytesIn },
    flows: c.flows, strayPackets: c.strayPackets, socketErrors: c.socketErrors,
  };
}
