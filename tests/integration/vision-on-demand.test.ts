/**
 * Vision on demand and the model-need cap in a real call: werift call server, headless publisher
 * (ffmpeg, x264), the embedded OCR engine. Between questions the publisher idles at 2 fps with its
 * encoder untouched; a question brings the full frame rate back and is answered from a frame taken
 * after it. The model-need cap lowers the rate target after answers the engine read well.
 */
import { describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import type { ClipSpec } from "../../encoder/synth/clip.ts";
import { CallServer, type CallServerOptions } from "../../sfu/call/call-server.ts";
import { HeadlessPublisher } from "../../sfu/publisher/publisher.ts";
import { fetchToken } from "../../sfu/publisher/signaling-client.ts";
import { answer, sleep, waitFor } from "../support/call-helpers.ts";
import { cleanupsAfterEach, signClipFixture } from "../support/sign-clip.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const SECRET = "integration-test-secret-0123456789abcdef";

const spec: ClipSpec = {
  width: 1280, height: 720, fps: 15, durationSec: 8, seed: 11, shakePx: 6,
  signs: [{ x: 700, y: 180, width: 300, height: 92, fontPx: 20, font: "sans", lines: ["GATE R57", "OPENS 9:14 AM", "SEAT 27C"] }],
};

const fx = signClipFixture("it-vision-", spec, "sign.mkv");
const cleanups = cleanupsAfterEach();

async function startCall(extra: Partial<CallServerOptions>) {
  const events: Array<{ event: string; fields: Record<string, unknown> }> = [];
  const keep = (event: string, fields: object) => events.push({ event, fields: fields as Record<string, unknown> });
  const server = new CallServer({
    secret: SECRET, ffmpeg, model: fx.engine, regionFinder: null, sendMaps: false,
    logger: { info: keep, warn: keep, error: keep },
    ...extra,
  });
  cleanups.push(() => server.close());
  const addr = await server.listen(0, "127.0.0.1");
  const url = `ws://127.0.0.1:${addr.port}/ws`;
  const publisher = new HeadlessPublisher({
    serverUrl: url, token: await fetchToken(url, "room1", "alice"), iceAdditionalHostAddresses: ["127.0.0.1"],
    encoder: { ffmpeg, input: fx.clip, loop: true, width: 1280, height: 720, fps: 15, bitrateBps: 600_000, codec: "h264" },
  });
  cleanups.push(() => publisher.close());
  await publisher.start();
  await waitFor(() => (server.metrics()[0]?.framesDecoded ?? 0) > 0, 20_000, "video at the server");
  return { server, publisher, events };
}

/** Mean of the publisher's 1-second bitrate and frame rate over a window, sampled every 250 ms. */
async function meanRates(p: HeadlessPublisher, ms: number): Promise<{ bps: number; fps: number }> {
  let bps = 0;
  let fps = 0;
  let n = 0;
  for (let t = 0; t < ms; t += 250, n++) {
    await sleep(250);
    bps += p.stats().bitrateBps;
    fps += p.stats().framerate;
  }
  return { bps: bps / n, fps: fps / n };
}

describe("vision on demand in a call", () => {
  it("idles the publisher at 2 fps without restarting its encoder, and a question brings the full rate back and is answered from a fresh frame", async () => {
    // GCC's delay-based estimate is off, as in the test below: it can fall on this loaded machine
    // (the server's event loop lags), and its rate change restarts the encoder, which is not what
    // this test looks for (a restart counted during the idle: 4 instead of 3, one run in six).
    const { server, publisher, events } = await startCall({ delayBasedRate: false, visionOnDemand: { lingerMs: 1500, idleFramerate: 2 } });
    const first = await answer(publisher, "What gate number is shown on the sign?");
    expect(first).toContain("R57");
    const active = await meanRates(publisher, 1500);
    await waitFor(() => publisher.stats().visionIdle, 10_000, "the publisher told to idle");
    expect(server.metrics()[0]!.vision).toMatchObject({ idle: true, resumes: 0 });
    const restartsIdle = publisher.stats().encoder.restarts;
    await sleep(1500); // the meter's window leaves the active second behind
    const idle = await meanRates(publisher, 3000);
    expect(idle.fps, `idle ${idle.fps.toFixed(1)} fps`).toBeLessThanOrEqual(2.5);
    expect(idle.bps / active.bps, `active ${active.bps.toFixed(0)} bps, idle ${idle.bps.toFixed(0)} bps`).toBeLessThan(0.4);

    const seat = await answer(publisher, "Which seat is written on the sign?");
    expect(seat).toContain("27C");
    expect(publisher.stats().visionIdle).toBe(false);
    const m = server.metrics()[0]!;
    expect(m.vision).toMatchObject({ resumes: 1 });
    const resumed = events.find((e) => e.event === "agent.vision-resumed");
    expect(resumed?.fields.fresh, JSON.stringify(resumed?.fields)).toBe(true);
    // Idle and back without a restart: the same stream went on.
    expect(publisher.stats().encoder.restarts).toBe(restartsIdle);
    expect(m.rateBoundBy).not.toBe("model");
  });

  it("the model-need cap lowers the rate target after answers the engine read well, and says it binds", async () => {
    // Target and headroom at 0.05: every answer read at all steps the cap down (the walk itself
    // is unit-tested; here the plumbing: reading -> cap -> rate target -> publisher -> metrics).
    // At 0.5 a right answer could read under it (readings of 0.56-0.93 were logged; the weakest
    // character of the sign's other lines counts) and step back up: once in CI the cap ended at
    // 600 kbps after two right answers. GCC's delay-based estimate is off: on this loaded 2-core
    // machine the server's event loop lags 23-87 ms (p99) and up to 130 ms, idle or answering,
    // and the estimate read that as a queue and fell under 300 kbps in some runs (bound by
    // "delay"). The server now leaves reads behind a stall out of the estimate (loop-stalls.ts),
    // but this test is about the model's cap; the estimate has its own tests
    // (tests/network/rate-control.test.ts, sfu/media/gcc/loop-stalls.test.ts).
    const { server, publisher } = await startCall({ delayBasedRate: false, modelNeed: { target: 0.05, headroom: 0.05, stepDownAfter: 1 } });
    for (const q of ["What gate number is shown on the sign?", "Which seat is written on the sign?"]) {
      const a = await answer(publisher, q);
      expect(a).toMatch(/R57|27C/);
    }
    const m = server.metrics()[0]!;
    expect(m.modelNeedBitrateBps).toBe(300_000);
    expect(m.rateBoundBy).toBe("model");
    await waitFor(() => (publisher.stats().rateTarget?.maxBitrateBps ?? Infinity) <= 300_000, 5000, "the lower rate target at the publisher");
    expect(m.vision).toBeNull();
  });
});
