/**
 * A real call through the link emulator's UDP relay: call server, signalling proxy, relay and a
 * headless publisher. The relay is put on the path through signalling (sfu/link/relay-path.ts):
 * the server learns the publisher only from checks that came through the relay. The publisher
 * itself is unchanged.
 */
import { expect } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import type { ClipSpec } from "../../encoder/synth/clip.ts";
import { CallServer, type CallMetrics, type CallServerOptions } from "../../sfu/call/call-server.ts";
import { type LinkConfig, type RelayCounters, type RelayIceCounts, RelayPath, type UdpRelay } from "../../sfu/link/index.ts";
import { HeadlessPublisher, type PublisherStats } from "../../sfu/publisher/publisher.ts";
import { fetchToken } from "../../sfu/publisher/signaling-client.ts";
import type { SignClipFixture } from "./sign-clip.ts";

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
  readonly ice: RelayIceCounts;
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

  const path = await RelayPath.start({ upstream, uplink: o.uplink, downlink: o.downlink, seed });
  cleanups.push(() => path.close());

  const publisher = new HeadlessPublisher({
    serverUrl: path.url, token: await fetchToken(upstream, "relay", policy), iceAdditionalHostAddresses: ["127.0.0.1"],
    connectTimeoutMs: 30_000,
    fec: publisherFec,
    ...(o.publisherCongestionWindow !== undefined ? { congestionWindow: o.publisherCongestionWindow } : {}),
    encoder: { ffmpeg, input: fx.clip, loop: true, width: 1280, height: 720, fps: 15, bitrateBps: o.bitrateBps ?? 600_000 },
  });
  cleanups.push(() => publisher.close()); // pushed last, so closed first
  await publisher.start();
  expect(path.errors, "signalling proxy errors").toEqual([]);
  return { server, publisher, ice: path.ice, relay: () => path.relay() };
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
