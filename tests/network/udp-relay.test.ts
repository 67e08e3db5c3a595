/**
 * The UDP relay between real sockets: plain UDP with loss and delay, then two werift peers whose ICE
 * can only go through the relay. Figures are counts and lower bounds (a packet never arrives before
 * its one-way delay); no test asserts how fast anything is.
 */
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { RTCPeerConnection, type RTCDataChannel } from "werift";
import { findCandidate, rewriteSdpCandidates, stripSdpCandidates, UdpRelay } from "../../sfu/link/index.ts";
import { sleep, waitFor } from "../support/call-helpers.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function udpSocket(): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind({ address: "127.0.0.1", port: 0 }, resolve));
  cleanups.push(() => new Promise<void>((resolve) => s.close(() => resolve())));
  return s;
}

describe("UdpRelay with plain UDP sockets", () => {
  it("10% uplink loss over 2000 packets: ~90% delivered, none before the one-way delay, echoes after both delays", async () => {
    const UP_MS = 30;
    const DOWN_MS = 20;
    const N = 2000;
    const client = await udpSocket();
    const server = await udpSocket();
    const relay = await UdpRelay.start({
      target: { address: "127.0.0.1", port: server.address().port },
      uplink: { delayMs: UP_MS, loss: { kind: "bernoulli", p: 0.1 } },
      downlink: { delayMs: DOWN_MS },
      seed: 2024,
    });
    cleanups.push(() => relay.close());

    const sentAt = new Map<number, number>();
    const oneWayMs: number[] = [];
    const roundTripMs: number[] = [];
    let wrongSource = 0;
    server.on("message", (msg, rinfo) => {
      const seq = msg.readUInt32BE(0);
      oneWayMs.push(performance.now() - sentAt.get(seq)!);
      server.send(msg, rinfo.port, rinfo.address); // echo to whoever sent it: the relay's flow socket
    });
    client.on("message", (msg, rinfo) => {
      if (rinfo.port !== relay.address.port) wrongSource++;
      roundTripMs.push(performance.now() - sentAt.get(msg.readUInt32BE(0))!);
    });

    // 20 packets every 10 ms: 2000 packets in about a second, gentle on loopback buffers.
    for (let seq = 0; seq < N; seq++) {
      const msg = Buffer.alloc(200);
      msg.writeUInt32BE(seq, 0);
      sentAt.set(seq, performance.now());
      client.send(msg, relay.address.port, relay.address.address);
      if (seq % 20 === 19) await sleep(10);
    }
    await waitFor(() => relay.counters().uplink.packetsIn === N, 20_000, "the relay to receive every packet",
      () => JSON.stringify(relay.counters()));
    await waitFor(() => relay.counters().uplink.packetsInFlight === 0 && relay.counters().downlink.packetsInFlight === 0
      && roundTripMs.length === relay.counters().downlink.packetsDelivered, 20_000, "the links to drain",
      () => JSON.stringify(relay.counters()));

    const { uplink, downlink, flows } = relay.counters();
    const fraction = oneWayMs.length / N;
    expect(fraction, `delivered ${oneWayMs.length} of ${N}`).toBeGreaterThan(0.87);
    expect(fraction).toBeLessThan(0.93);
    expect(uplink.packetsLost + uplink.packetsDelivered).toBe(N);
    expect(uplink.packetsDelivered).toBe(oneWayMs.length);
    expect(uplink.bytesIn).toBe(N * 200);
    expect(uplink.packetsQueueDropped).toBe(0);
    expect([downlink.packetsIn, downlink.packetsLost, downlink.packetsDelivered]).toEqual([oneWayMs.length, 0, oneWayMs.length]);
    expect(roundTripMs.length).toBe(oneWayMs.length);
    expect(flows).toBe(1);
    expect(wrongSource).toBe(0);
    expect(Math.min(...oneWayMs), "earliest one-way time").toBeGreaterThanOrEqual(UP_MS);
    expect(Math.min(...roundTripMs), "earliest round trip").toBeGreaterThanOrEqual(UP_MS + DOWN_MS);
  });

  it("close() releases the port: a new socket can bind it", async () => {
    const server = await udpSocket();
    const relay = await UdpRelay.start({ target: { address: "127.0.0.1", port: server.address().port }, seed: 1 });
    const { port } = relay.address;
    await relay.close();
    const again = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      again.once("error", reject);
      again.bind({ address: "127.0.0.1", port }, resolve);
    });
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });

  it("start: a bad link config fails before any socket is bound, naming the direction", async () => {
    await expect(UdpRelay.start({ target: { address: "127.0.0.1", port: 9 }, downlink: { delayMs: -5 }, seed: 1 }))
      .rejects.toMatchObject({ code: "INVALID_CONFIG", field: "downlink.delayMs" });
    await expect(UdpRelay.start({ target: { address: "127.0.0.1", port: 0 }, seed: 1 }))
      .rejects.toMatchObject({ field: "target.port" });
  });
});

const peerConfig = { iceAdditionalHostAddresses: ["127.0.0.1"], bundlePolicy: "max-bundle" as const };

async function gathered(pc: RTCPeerConnection): Promise<string> {
  await waitFor(() => pc.iceGatheringState === "complete", 10_000, "ICE gathering");
  return pc.localDescription!.sdp;
}

describe("UdpRelay between two werift peers", () => {
  it("data channel over 5% loss and 50 ms each way: every message arrives, only through the relay", async () => {
    const offerer = new RTCPeerConnection(peerConfig);
    const answerer = new RTCPeerConnection(peerConfig);
    cleanups.push(async () => {
      await offerer.close();
      await answerer.close();
    });

    const dc = offerer.createDataChannel("chat");
    await offerer.setLocalDescription(await offerer.createOffer());
    const offerSdp = await gathered(offerer);
    // The answerer gets no candidates: it can only learn the offerer from checks the relay forwards.
    await answerer.setRemoteDescription({ type: "offer", sdp: stripSdpCandidates(offerSdp) });
    await answerer.setLocalDescription(await answerer.createAnswer());
    const answerSdp = await gathered(answerer);
    const target = findCandidate(answerSdp, { address: "127.0.0.1", transport: "udp" });
    expect(target, "the answerer's 127.0.0.1 host candidate").toBeDefined();

    const relay = await UdpRelay.start({
      target: { address: target!.address, port: target!.port },
      uplink: { delayMs: 50, loss: { kind: "bernoulli", p: 0.05 } },
      downlink: { delayMs: 50, loss: { kind: "bernoulli", p: 0.05 } },
      seed: 77,
    });
    cleanups.push(() => relay.close());
    const rewritten = rewriteSdpCandidates(answerSdp, { target: { address: target!.address, port: target!.port }, relay: relay.address });
    expect(rewritten.match(/^a=candidate:.*$/gm)).toEqual([expect.stringContaining(` 127.0.0.1 ${relay.address.port} typ host`)]);
    await offerer.setRemoteDescription({ type: "answer", sdp: rewritten });

    const echoed: string[] = [];
    const received: string[] = [];
    answerer.onDataChannel.subscribe((channel: RTCDataChannel) => {
      channel.onMessage.subscribe((m) => {
        received.push(m.toString());
        channel.send(`echo ${m.toString()}`);
      });
    });
    dc.onMessage.subscribe((m) => echoed.push(m.toString()));

    const describeState = () => `offerer ${offerer.connectionState}, answerer ${answerer.connectionState}, dc ${dc.readyState}, relay ${JSON.stringify(relay.counters())}`;
    await waitFor(() => dc.readyState === "open", 60_000, "the data channel to open", describeState);
    const N = 100;
    for (let i = 0; i < N; i++) {
      dc.send(`message ${i} ${"x".repeat(300)}`);
      if (i % 10 === 9) await sleep(20);
    }
    await waitFor(() => echoed.length === N, 60_000, `${N} echoes`, () => `${echoed.length} echoes; ${describeState()}`);
    expect(received).toEqual(Array.from({ length: N }, (_, i) => `message ${i} ${"x".repeat(300)}`));
    expect(echoed[N - 1]).toBe(`echo message ${N - 1} ${"x".repeat(300)}`);

    // ICE went through the relay: the offerer's selected pair ends at the relay's port, and the
    // answerer's at one of the relay's flow sockets, never at an offerer host candidate.
    const offNominated = offerer.iceTransports[0]!.connection.nominated;
    expect([offNominated?.remoteCandidate.host, offNominated?.remoteCandidate.port]).toEqual([relay.address.address, relay.address.port]);
    const ansNominated = answerer.iceTransports[0]!.connection.nominated;
    const offererPorts = [...offerSdp.matchAll(/^a=candidate:\S+ \d+ udp \d+ \S+ (\d+)/gm)].map((m) => Number(m[1]));
    expect(ansNominated).toBeDefined();
    expect(offererPorts).not.toContain(ansNominated!.remoteCandidate.port);

    const { uplink, downlink, flows } = relay.counters();
    const lost = uplink.packetsLost + downlink.packetsLost;
    const total = uplink.packetsIn + downlink.packetsIn;
    // SCTP retransmits what the link lost; the relay's counters show both the traffic and the losses.
    expect(uplink.packetsDelivered, describeState()).toBeGreaterThan(N / 2);
    expect(downlink.packetsDelivered).toBeGreaterThan(N / 2);
    expect(uplink.bytesDelivered).toBeGreaterThan(N * 300);
    expect(lost, `lost ${lost} of ${total} datagrams`).toBeGreaterThan(0);
    expect(lost / total).toBeLessThan(0.15);
    expect(flows).toBeGreaterThanOrEqual(1);
    console.log(`relay: ${total} datagrams, ${lost} lost (${((100 * lost) / total).toFixed(1)}%), ${flows} flow(s); uplink ${JSON.stringify(uplink)}; downlink ${JSON.stringify(downlink)}`);
  });
});
