/**
 * The publisher's congestion window in a real call: a headless publisher configured for 600 kbps
 * streams through the link emulator's UDP relay whose uplink follows a trace that carries 500 kbps
 * and stalls for 2.5 s every 10 s (a cellular uplink's outage), into a 30-packet drop-tail queue
 * (Artic's mahimahi setup), 50 ms each way.
 *
 * The call server sends transport-wide CC feedback (sfu/media/gcc/transport-feedback.ts) every
 * 50 ms; with its congestion window on, the publisher stops handing frames to the encoder once
 * what it sent and nobody has reported fills the window, so a stall does not fill the queue with
 * frames that overflow it and break the reference chain. Off, for contrast: the same call keeps
 * sending into the stall and the queue overflows.
 *
 * Figures are printed; no wall-clock bounds.
 */
import { describe, expect, it } from "vitest";
import { parseTrace } from "../../sfu/link/trace.ts";
import { answer, sleep, waitFor } from "../support/call-helpers.ts";
import { pick, publisherFigures, RELAY_SIGN_CLIP, relayedCall } from "../support/relayed-call.ts";
import { cleanupsAfterEach, signClipFixture } from "../support/sign-clip.ts";

const cleanups = cleanupsAfterEach();

const fx = signClipFixture("net-cwnd-", RELAY_SIGN_CLIP, "sign.mkv");

/** 10 s cycle: a 1500-byte opportunity every 24 ms (500 kbps), none from 6.0 to 8.5 s. */
function stallingTrace() {
  const lines: number[] = [];
  for (let t = 24; t <= 10_000; t += 24) if (t < 6000 || t >= 8500) lines.push(t);
  return parseTrace(lines.join("\n"), "stalling-500k");
}

async function run(congestionWindow: boolean) {
  const call = await relayedCall({
    fx, cleanups, policy: "resilient", seed: 4, publisherFec: true, publisherCongestionWindow: congestionWindow,
    uplink: { delayMs: 50, rate: { kind: "trace", trace: stallingTrace() }, queue: { kind: "packets", packets: 30 } },
    downlink: { delayMs: 50 },
  });
  const { server, publisher } = call;
  await waitFor(() => (server.metrics()[0]?.framesDecoded ?? 0) > 3, 40_000, "video at the server");
  // Two stalls go by (the relay's trace started with the call); the server's estimate each second.
  const samples: string[] = [];
  for (let i = 0; i < 20; i++) {
    await sleep(1000);
    const m = server.metrics()[0]!;
    samples.push(`${Math.round((m.delayBitrateBps ?? 0) / 1000)}/${Math.round(m.linkBitrateBps / 1000)}/${m.rateBoundBy}/${m.delayUsage}/${Math.round(publisher.stats().bitrateCapBps / 1000)}`);
  }
  const text = await answer(publisher, "What gate number is shown on the sign?");
  const c = call.relay().counters();
  const s = publisher.stats();
  const m = server.metrics()[0]!;
  const figures = {
    queueDropped: c.uplink.packetsQueueDropped, packetsIn: c.uplink.packetsIn,
    framesDroppedCongestion: s.encoder.framesDroppedCongestion, congestionWindow: s.congestionWindow,
    samples, server: pick(m), publisher: publisherFigures(s), answer: text,
  };
  console.log(`[congestion-window] ${congestionWindow ? "on" : "off"}: queue drops ${figures.queueDropped} of ${figures.packetsIn} packets, frames held back ${figures.framesDroppedCongestion}, frame delay ${JSON.stringify(m.frameDelayMs)}; ${JSON.stringify(figures)}`);
  return figures;
}

describe("congestion window on transport feedback, through a stalling uplink", () => {
  it("holds frames back through the stalls and overflows the queue far less than without it; the AI still reads the sign", async () => {
    const on = await run(true);
    const off = await run(false);
    expect(on.congestionWindow, "transport-cc negotiated").not.toBeNull();
    expect(on.congestionWindow!.feedbackRttMs).not.toBeNull();
    expect(on.framesDroppedCongestion).toBeGreaterThan(0);
    expect(off.framesDroppedCongestion).toBe(0);
    expect(off.queueDropped, "the stalls overflow the queue without the window").toBeGreaterThan(20);
    expect(on.queueDropped * 2, `queue drops: ${on.queueDropped} with the window, ${off.queueDropped} without`).toBeLessThan(off.queueDropped);
    expect(on.answer).toContain("K42");
  }, 150_000);
});
