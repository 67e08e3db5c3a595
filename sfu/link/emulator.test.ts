import { describe, expect, it } from "vitest";
import type { LinkConfig } from "./config.ts";
import { LinkEmulator, type SendResult } from "./emulator.ts";
import { LinkError } from "./errors.ts";
import { loadTrace } from "./trace-catalogue.ts";
import { OPPORTUNITY_BYTES, opportunityTimeMs, parseTrace, type Trace } from "./trace.ts";

const traceLink = (trace: Trace, extra: LinkConfig = {}) => new LinkEmulator<number>({ rate: { kind: "trace", trace }, ...extra }, { seed: 1 });
const departures = (rs: SendResult[]) => rs.map((r) => (r.accepted ? r.departureMs : r.reason));

describe("LinkEmulator: trace-driven bottleneck (mahimahi LinkQueue accounting)", () => {
  const perMs = parseTrace("1\n"); // one 1500-byte opportunity every ms

  it("send: a packet leaves at the first opportunity strictly after it arrived", () => {
    const link = traceLink(perMs);
    expect(departures([link.send(1500, 0), link.send(1500, 0.5)])).toEqual([1, 2]);
    const idle = traceLink(perMs);
    expect(departures([idle.send(1500, 1)])).toEqual([2]);
  });

  it("send: small packets share one opportunity's 1500 bytes; the surplus goes to the next packet", () => {
    const link = traceLink(perMs);
    expect(departures([500, 500, 500, 500].map((s) => link.send(s, 0)))).toEqual([1, 1, 1, 2]);
    const split = traceLink(perMs);
    // 1000 B at 1 (500 left), the next 1000 B takes those 500 then 500 of opportunity 2.
    expect(departures([1000, 1000, 1000].map((s) => split.send(s, 0)))).toEqual([1, 2, 2]);
  });

  it("send: a packet larger than 1500 bytes spans opportunities and leaves with its last byte", () => {
    const link = traceLink(perMs);
    expect(departures([link.send(3000, 0), link.send(1500, 0), link.send(0, 0)])).toEqual([2, 3, 4]);
  });

  it("send: opportunities that find the queue empty are wasted", () => {
    const link = traceLink(perMs);
    expect(departures([link.send(1000, 0), link.send(1000, 5)])).toEqual([1, 6]);
  });

  it("send: the trace repeats with period = last timestamp and starts at startMs", () => {
    const link = new LinkEmulator({ rate: { kind: "trace", trace: parseTrace("0\n10\n") } }, { seed: 1, startMs: 1000 });
    // Opportunities at 1000, 1010, 1010, 1020, 1020, ...; the one at 1000 is not after 1000.
    expect(departures([0, 1, 2, 3, 4].map(() => link.send(1500, 1000)))).toEqual([1010, 1010, 1020, 1020, 1030]);
  });

  it("Verizon LTE over 20 s, saturating sender: delivered bytes within 1% of opportunities * 1500", () => {
    const trace = loadTrace("verizon-lte");
    const link = new LinkEmulator({ rate: { kind: "trace", trace }, delayMs: 0 }, { seed: 7 });
    const endMs = 20_000;
    let opportunities = 0;
    for (let i = 0; opportunityTimeMs(trace, i) <= endMs; i++) if (opportunityTimeMs(trace, i) > 0) opportunities++;
    // 1200-byte packets at 24 Mbps (2.5 a ms, well above the trace's 5.9 Mbps mean), so the queue never empties.
    let delivered = 0;
    for (let t = 0; t < endMs; t++) {
      for (let k = 0; k < (t % 2 === 0 ? 2 : 3); k++) link.send(1200, t);
      for (const p of link.poll(t)) delivered += p.sizeBytes;
    }
    for (const p of link.poll(endMs)) delivered += p.sizeBytes;
    const capacity = opportunities * OPPORTUNITY_BYTES;
    const ratio = delivered / capacity;
    expect(ratio, `delivered ${delivered} B of ${capacity} B (${opportunities} opportunities), ratio ${ratio.toFixed(4)}`).toBeGreaterThan(0.99);
    expect(ratio).toBeLessThanOrEqual(1);
  });

  it("Verizon LTE, backlog of 1500-byte packets: one packet per opportunity, exactly", () => {
    const trace = loadTrace("verizon-lte");
    const link = traceLink(trace);
    for (let i = 0; i < 100_000; i++) link.send(1500, 0);
    let opportunities = 0;
    for (let i = 1; opportunityTimeMs(trace, i) <= 20_000; i++) opportunities++;
    if (opportunityTimeMs(trace, 0) > 0) opportunities++;
    expect(link.poll(20_000).length).toBe(opportunities);
  });
});

describe("LinkEmulator: fixed rate, delay, jitter", () => {
  it("fixed rate: 1250-byte packets at 1 Mbps leave every 10 ms", () => {
    const link = new LinkEmulator({ rate: { kind: "fixed", bitsPerSecond: 1_000_000 } }, { seed: 1 });
    expect(departures([0, 1, 2, 3].map(() => link.send(1250, 0)))).toEqual([10, 20, 30, 40]);
    expect(departures([link.send(1250, 100)])).toEqual([110]); // an idle link starts at once
  });

  it("fixed rate: a saturating sender gets the configured rate over 10 s (within one packet)", () => {
    const rateBps = 2_500_000;
    const link = new LinkEmulator({ rate: { kind: "fixed", bitsPerSecond: rateBps } }, { seed: 1 });
    let bytes = 0;
    for (let t = 0; t < 10_000; t++) {
      link.send(1000, t); // 8 Mbps offered
      for (const p of link.poll(t)) bytes += p.sizeBytes;
    }
    for (const p of link.poll(10_000)) bytes += p.sizeBytes;
    expect(Math.abs(bytes - (rateBps / 8) * 10)).toBeLessThanOrEqual(1000);
  });

  it("delay without jitter: delivered exactly delayMs after departure, not a microsecond earlier", () => {
    const link = new LinkEmulator<string>({ delayMs: 50 }, { seed: 1 });
    link.send(100, 10, "a");
    link.send(100, 12.5, "b");
    expect(link.nextEventMs()).toBe(60);
    expect(link.poll(59.999)).toEqual([]);
    const got = link.poll(62.5);
    expect(got.map((p) => [p.payload, p.deliveryMs, p.sentMs])).toEqual([["a", 60, 10], ["b", 62.5, 12.5]]);
    expect(link.nextEventMs()).toBeUndefined();
  });

  it("jitter never reorders: delivery times never go backwards and stay within [delay, delay + jitter]", () => {
    const link = new LinkEmulator<number>({ delayMs: 20, jitterMs: 30 }, { seed: 3 });
    const sent: number[] = [];
    for (let i = 0; i < 5000; i++) {
      link.send(200, i * 2, i);
      sent.push(i * 2);
    }
    const out = link.poll(1e9);
    expect(out.map((p) => p.payload)).toEqual(sent.map((_, i) => i));
    let prev = -Infinity;
    let spread = 0;
    for (const p of out) {
      expect(p.deliveryMs).toBeGreaterThanOrEqual(prev);
      expect(p.deliveryMs - p.sentMs).toBeGreaterThanOrEqual(20);
      expect(p.deliveryMs - p.sentMs).toBeLessThanOrEqual(50);
      spread = Math.max(spread, p.deliveryMs - p.sentMs - 20);
      prev = p.deliveryMs;
    }
    expect(spread, "the jitter draws should use most of the 30 ms range").toBeGreaterThan(25);
  });
});

describe("LinkEmulator: drop-tail queue", () => {
  it("packet limit: counts packets waiting, not the one being transmitted", () => {
    const link = new LinkEmulator({ rate: { kind: "fixed", bitsPerSecond: 1_000_000 }, queue: { kind: "packets", packets: 5 } }, { seed: 1 });
    const rs = Array.from({ length: 20 }, () => link.send(1250, 0));
    expect(rs.filter((r) => r.accepted).length).toBe(6); // 1 transmitting + 5 waiting
    expect(rs.slice(6).every((r) => !r.accepted && r.reason === "queue-full")).toBe(true);
    // At 10 ms the first has left and the second started: one place is free.
    expect(link.send(1250, 10).accepted).toBe(true);
    expect(link.send(1250, 10).accepted).toBe(false);
    const c = link.counters();
    expect([c.packetsIn, c.packetsQueueDropped, c.bytesQueueDropped]).toEqual([22, 15, 15 * 1250]);
  });

  it("byte limit: a packet fits only if the queued bytes stay within the limit", () => {
    const link = new LinkEmulator({ rate: { kind: "fixed", bitsPerSecond: 1_000_000 }, queue: { kind: "bytes", bytes: 5000 } }, { seed: 1 });
    const rs = [1250, 1250, 1250, 1250, 1250, 1000, 1].map((s) => link.send(s, 0));
    // First transmits at once; then 4 x 1250 = 5000 waiting; neither 1000 nor 1 more byte fits.
    expect(rs.map((r) => r.accepted)).toEqual([true, true, true, true, true, false, false]);
    expect(link.send(1250, 10).accepted).toBe(true);
  });

  it("trace link: packets waiting for a future opportunity count against the limit", () => {
    const link = traceLink(parseTrace("1\n"), { queue: { kind: "packets", packets: 2 } });
    const rs = [0, 1, 2, 3].map(() => link.send(1500, 0));
    expect(departures(rs)).toEqual([1, 2, "queue-full", "queue-full"]);
  });

  it("lost packets take no queue space (loss comes before the queue)", () => {
    const link = new LinkEmulator({ loss: { kind: "bernoulli", p: 1 }, queue: { kind: "packets", packets: 1 } }, { seed: 1 });
    const rs = [0, 1, 2].map(() => link.send(100, 0));
    expect(rs.map((r) => (r.accepted ? "ok" : r.reason))).toEqual(["loss", "loss", "loss"]);
    expect(link.queuedPackets).toBe(0);
  });
});

describe("LinkEmulator: seeds and bad input", () => {
  const run = (seed: number) => {
    const link = new LinkEmulator({ delayMs: 10, jitterMs: 20, loss: { kind: "bernoulli", p: 0.2 } }, { seed });
    for (let i = 0; i < 500; i++) link.send(100, i);
    return link.poll(1e9).map((p) => [p.id, p.deliveryMs]);
  };

  it("same seed gives identical deliveries; a different seed differs", () => {
    expect(run(42)).toEqual(run(42));
    expect(run(43)).not.toEqual(run(42));
  });

  it("jitter has its own random stream: turning it on leaves the loss pattern as it was", () => {
    const lost = (jitterMs: number) => {
      const link = new LinkEmulator({ jitterMs, loss: { kind: "bernoulli", p: 0.3 } }, { seed: 9 });
      return Array.from({ length: 300 }, (_, i) => link.send(100, i).accepted);
    };
    expect(lost(25)).toEqual(lost(0));
  });

  it("counters: in = delivered + lost + queue-dropped + in flight", () => {
    const link = new LinkEmulator({ rate: { kind: "fixed", bitsPerSecond: 500_000 }, loss: { kind: "bernoulli", p: 0.1 }, queue: { kind: "packets", packets: 10 } }, { seed: 5 });
    for (let t = 0; t < 1000; t++) {
      link.send(1000, t);
      link.poll(t);
    }
    const c = link.counters();
    expect(c.packetsLost).toBeGreaterThan(0);
    expect(c.packetsQueueDropped).toBeGreaterThan(0);
    expect(c.packetsDelivered + c.packetsLost + c.packetsQueueDropped + c.packetsInFlight).toBe(c.packetsIn);
    expect(c.bytesDelivered + c.bytesLost + c.bytesQueueDropped + c.packetsInFlight * 1000).toBe(c.bytesIn);
  });

  it("send: rejects a clock going backwards and a bad size, naming the argument", () => {
    const link = new LinkEmulator({}, { seed: 1 });
    link.send(100, 50);
    expect(() => link.send(100, 49)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", field: "nowMs" }));
    expect(() => link.send(-1, 60)).toThrow(expect.objectContaining({ field: "sizeBytes" }));
    expect(() => link.send(1.5, 60)).toThrow(LinkError);
  });

  it("constructor: rejects a non-integer seed and names the field prefix in config errors", () => {
    expect(() => new LinkEmulator({}, { seed: 0.5 })).toThrow(expect.objectContaining({ field: "seed" }));
    expect(() => new LinkEmulator({ delayMs: -1 }, { seed: 1, field: "uplink" })).toThrow(expect.objectContaining({ field: "uplink.delayMs" }));
  });
});

describe("LinkEmulator lossFree", () => {
  it("send, lossFree packets between the others, leaves the others' loss draws as without them", () => {
    const config = { loss: { kind: "bernoulli" as const, p: 0.3 } };
    const plain = new LinkEmulator<number>(config, { seed: 9 });
    const mixed = new LinkEmulator<number>(config, { seed: 9 });
    const a: boolean[] = [];
    const b: boolean[] = [];
    for (let i = 0; i < 200; i++) {
      a.push(plain.send(100, i, i).accepted);
      expect(mixed.send(100, i, -1, { lossFree: true }).accepted).toBe(true);
      b.push(mixed.send(100, i, i).accepted);
    }
    expect(b).toEqual(a);
    expect(a.filter((x) => !x).length).toBeGreaterThan(30);
  });
});
