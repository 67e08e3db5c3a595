import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { linkError } from "../../sfu/link/test-util.ts";
import { DEFAULT_QUEUE_PACKETS, defaultConditions, LOSS_CONDITION_RATE_BPS, parseCondition, TRACE_QUEUE_PACKETS } from "./conditions.ts";


describe("parseCondition", () => {
  it("trace:verizon-lte,rtt=100: the trace with 50 ms each way, no loss, the trace conditions' 30-packet queue", () => {
    const c = parseCondition("trace:verizon-lte,rtt=100");
    expect(c.name).toBe("verizon-lte-rtt100");
    expect(c.uplink.rate.kind).toBe("trace");
    expect(c.uplink.delayMs).toBe(50);
    expect(c.downlink.delayMs).toBe(50);
    expect(c.uplink.loss).toEqual({ kind: "none" });
    expect(c.uplink.queue).toEqual({ kind: "packets", packets: TRACE_QUEUE_PACKETS });
    expect(c.knownLossRate).toBe(0);
  });

  it("a trace with a default queue given (bench:network --queue), or its own queue key, uses that; a fixed rate keeps the deep queue", () => {
    expect(parseCondition("trace:verizon-lte,rtt=100", { traceQueuePackets: 60 }).uplink.queue).toEqual({ kind: "packets", packets: 60 });
    expect(parseCondition("trace:verizon-lte,rtt=100,queue=10", { traceQueuePackets: 60 }).uplink.queue).toEqual({ kind: "packets", packets: 10 });
    expect(parseCondition("loss=0.05,rtt=100", { traceQueuePackets: 60 }).uplink.queue).toEqual({ kind: "packets", packets: DEFAULT_QUEUE_PACKETS });
  });

  it("loss=0.05,rtt=100: Bernoulli loss on a fixed 20 Mbps link", () => {
    const c = parseCondition("loss=0.05,rtt=100");
    expect(c.name).toBe("loss5-rtt100");
    expect(c.uplink.rate).toEqual({ kind: "fixed", bitsPerSecond: LOSS_CONDITION_RATE_BPS });
    expect(c.uplink.loss).toEqual({ kind: "bernoulli", p: 0.05 });
    expect(c.downlink.loss).toEqual({ kind: "none" });
    expect(c.knownLossRate).toBe(0.05);
  });

  it("takes a name, a rate and a queue limit", () => {
    const c = parseCondition("name=slow, rate=500000, loss=0, rtt=40, queue=20");
    expect(c.name).toBe("slow");
    expect(c.uplink.rate).toEqual({ kind: "fixed", bitsPerSecond: 500_000 });
    expect(c.uplink.queue).toEqual({ kind: "packets", packets: 20 });
    expect(c.uplink.delayMs).toBe(20);
  });

  const bad: Array<[string, string, string, RegExp]> = [
    ["an empty value", "", "condition", /empty/],
    ["an item without =", "loss0.05,rtt=100", "condition", /not key=value/],
    ["an unknown key", "los=0.05,rtt=100", "condition.los", /unknown key "los"/],
    ["no rtt", "loss=0.05", "condition.rtt", /rtt is missing/],
    ["a negative rtt (negative delay)", "loss=0.05,rtt=-10", "condition.rtt", />= 0, got -10/],
    ["a non-numeric rtt", "loss=0.05,rtt=fast", "condition.rtt", /got "fast"/],
    ["loss above 1", "loss=1.5,rtt=100", "condition.loss", /\[0, 1\], got 1.5/],
    ["negative loss", "loss=-0.1,rtt=100", "condition.loss", /\[0, 1\], got -0.1/],
    ["an empty trace", "trace=,rtt=100", "condition.trace", /empty/],
    ["a missing trace file", "trace=/nonexistent/trace.txt,rtt=100", "condition.trace", /cannot read trace/],
    ["a trace and a rate", "trace=verizon-lte,rate=1000000,rtt=100", "condition.rate", /not both/],
    ["a key given twice", "loss=0.1,loss=0.2,rtt=100", "condition.loss", /twice/],
  ];
  for (const [what, text, field, message] of bad) {
    it(`${what}: LinkError on "${field}"`, () => {
      const err = linkError(() => parseCondition(text));
      expect(err.field).toBe(field);
      expect(err.message).toMatch(message);
    });
  }

  it("an empty trace file: INVALID_TRACE on condition.trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "cond-"));
    const path = join(dir, "empty.trace");
    writeFileSync(path, "");
    const err = linkError(() => parseCondition(`trace=${path},rtt=100`));
    expect(err.code).toBe("INVALID_TRACE");
    expect(err.field).toBe("condition.trace");
  });

  it("a malformed trace file: INVALID_TRACE naming the line", () => {
    const dir = mkdtempSync(join(tmpdir(), "cond-"));
    const path = join(dir, "bad.trace");
    writeFileSync(path, "1\n2\nabc\n");
    const err = linkError(() => parseCondition(`trace=${path},rtt=100`));
    expect(err.code).toBe("INVALID_TRACE");
    expect(err.line).toBe(3);
  });
});

describe("defaultConditions", () => {
  it("gives issue 13's five conditions: two driving traces with a 30-packet queue, 5/10/15% loss", () => {
    const cs = defaultConditions();
    expect(cs.map((c) => c.name)).toEqual(["verizon-evdo-driving-rtt100", "att-lte-driving-rtt100", "loss5-rtt100", "loss10-rtt100", "loss15-rtt150"]);
    expect(cs.map((c) => c.rttMs)).toEqual([100, 100, 100, 100, 150]);
    expect(cs[0]!.uplink.queue).toEqual({ kind: "packets", packets: 30 });
    expect(cs[4]!.knownLossRate).toBe(0.15);
  });
});
