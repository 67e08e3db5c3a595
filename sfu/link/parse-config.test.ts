import { describe, expect, it } from "vitest";
import { linkError } from "./test-util.ts";
import { type LinkConfig, resolveLinkConfig } from "./config.ts";
import { parseLinkConfig } from "./parse-config.ts";
import { parseTrace } from "./trace.ts";


describe("resolveLinkConfig", () => {
  it("fills defaults: unlimited rate and queue, no delay, no jitter, no loss", () => {
    expect(resolveLinkConfig({})).toEqual({
      rate: { kind: "unlimited" }, delayMs: 0, jitterMs: 0, loss: { kind: "none" }, queue: { kind: "unlimited" },
    });
  });

  const bad: Array<[string, LinkConfig, string, RegExp]> = [
    ["negative delay", { delayMs: -5 }, "delayMs", /delayMs must be a finite number of milliseconds >= 0, got -5/],
    ["NaN delay", { delayMs: Number.NaN }, "delayMs", /got NaN/],
    ["negative jitter", { jitterMs: -1 }, "jitterMs", />= 0, got -1/],
    ["loss above 1", { loss: { kind: "bernoulli", p: 1.5 } }, "loss.p", /probability in \[0, 1\], got 1.5/],
    ["loss below 0", { loss: { kind: "bernoulli", p: -0.1 } }, "loss.p", /got -0.1/],
    ["GE p outside [0,1]", { loss: { kind: "gilbert-elliott", pGoodToBad: 2, pBadToGood: 0.5 } }, "loss.pGoodToBad", /\[0, 1\]/],
    ["GE lossInBad outside [0,1]", { loss: { kind: "gilbert-elliott", pGoodToBad: 0.1, pBadToGood: 0.5, lossInBad: 1.1 } }, "loss.lossInBad", /\[0, 1\]/],
    ["GE stuck in bad", { loss: { kind: "gilbert-elliott", pGoodToBad: 0.1, pBadToGood: 0 } }, "loss.pBadToGood", /stay in the bad state/],
    ["zero rate", { rate: { kind: "fixed", bitsPerSecond: 0 } }, "rate.bitsPerSecond", /> 0, got 0/],
    ["negative rate", { rate: { kind: "fixed", bitsPerSecond: -1e6 } }, "rate.bitsPerSecond", /> 0/],
    ["zero-packet queue", { queue: { kind: "packets", packets: 0 } }, "queue.packets", /zero-size queue/],
    ["zero-byte queue", { queue: { kind: "bytes", bytes: 0 } }, "queue.bytes", /zero-size queue/],
    ["fractional queue", { queue: { kind: "packets", packets: 2.5 } }, "queue.packets", /whole number/],
  ];
  for (const [what, config, field, message] of bad) {
    it(`${what}: INVALID_CONFIG on "${field}"`, () => {
      const e = linkError(() => resolveLinkConfig(config));
      expect(e.code).toBe("INVALID_CONFIG");
      expect(e.field).toBe(field);
      expect(e.message).toMatch(message);
    });
  }
});

describe("parseLinkConfig", () => {
  it("builds a DeViBench condition from a trace name, half the RTT and a loss rate", () => {
    const c = parseLinkConfig({ trace: "verizon-lte", delayMs: 50, loss: 0.05, queuePackets: 200 });
    expect(c.rate.kind).toBe("trace");
    expect(c.rate.kind === "trace" && c.rate.trace.source).toBe("verizon-lte");
    expect([c.delayMs, c.jitterMs, c.loss, c.queue]).toEqual([50, 0, { kind: "bernoulli", p: 0.05 }, { kind: "packets", packets: 200 }]);
  });

  it("fixed rate, byte queue, Gilbert-Elliott loss", () => {
    const c = parseLinkConfig({ rateBps: 300_000, queueBytes: 30_000, loss: { model: "gilbert-elliott", pGoodToBad: 0.01, pBadToGood: 0.3 } });
    expect(c.rate).toEqual({ kind: "fixed", bitsPerSecond: 300_000 });
    expect(c.queue).toEqual({ kind: "bytes", bytes: 30_000 });
    expect(c.loss).toEqual({ kind: "gilbert-elliott", pGoodToBad: 0.01, pBadToGood: 0.3, lossInGood: 0, lossInBad: 1 });
  });

  it("uses an injected trace loader for names and paths", () => {
    const c = parseLinkConfig({ trace: "mine" }, { loadTrace: (name) => parseTrace("1\n", name) });
    expect(c.rate.kind === "trace" && c.rate.trace.periodMs).toBe(1);
  });

  const bad: Array<[string, unknown, string, RegExp]> = [
    ["not an object", 5, "config", /expected object/],
    ["unknown key", { delay: 50 }, "delay", /delay/],
    ["wrong type", { delayMs: "50" }, "delayMs", /field "delayMs": expected number, got string/],
    ["negative delay", { delayMs: -1 }, "delayMs", />= 0/],
    ["loss rate above 1", { loss: 1.2 }, "loss", /field loss|loss must be a probability/],
    ["GE rate outside [0,1]", { loss: { model: "gilbert-elliott", pGoodToBad: 0.1, pBadToGood: 7 } }, "loss.pBadToGood", /\[0, 1\]/],
    ["non-positive rate", { rateBps: 0 }, "rateBps", /rateBps must be a finite number of bits per second > 0/],
    ["zero queue", { queuePackets: 0 }, "queuePackets", /queuePackets must be a whole number/],
    ["two rates", { trace: "verizon-lte", rateBps: 1e6 }, "rateBps", /give one/],
    ["two queue limits", { queuePackets: 10, queueBytes: 1000 }, "queueBytes", /give one/],
    ["unknown trace name", { trace: "verizon-5g" }, "trace", /cannot read trace "verizon-5g".*verizon-lte/],
  ];
  for (const [what, input, field, message] of bad) {
    it(`${what}: INVALID_CONFIG naming "${field}"`, () => {
      const e = linkError(() => parseLinkConfig(input));
      expect(e.code).toBe("INVALID_CONFIG");
      expect(e.field).toBe(field);
      expect(e.message).toMatch(message);
    });
  }

  it("prefixes field names, e.g. for the uplink of a relay", () => {
    expect(linkError(() => parseLinkConfig({ delayMs: -1 }, { field: "uplink" })).field).toBe("uplink.delayMs");
    const typed = linkError(() => parseLinkConfig({ jitterMs: true }, { field: "downlink" }));
    expect(typed.field).toBe("downlink.jitterMs");
    expect(typed.message).toContain('field "downlink.jitterMs"');
    expect(linkError(() => parseLinkConfig({ trace: "nope" }, { field: "uplink" })).field).toBe("uplink.trace");
  });
});
