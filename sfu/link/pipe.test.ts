import { describe, expect, it } from "vitest";
import type { DeliveredPacket } from "./emulator.ts";
import { LinkPipe } from "./pipe.ts";
import { realTimer, VirtualTimer } from "./timer.ts";
import { parseTrace } from "./trace.ts";

describe("LinkPipe with a VirtualTimer", () => {
  it("delivers each packet at its delivery time, in order, with the payload", () => {
    const timer = new VirtualTimer(1000);
    const got: Array<[string, number]> = [];
    const pipe = new LinkPipe<string>({
      config: { delayMs: 40 }, seed: 1, timer,
      deliver: (payload) => got.push([payload, timer.now()]),
    });
    pipe.send("a", 100);
    timer.advance(5);
    pipe.send("b", 100);
    timer.advance(34.9);
    expect(got).toEqual([]);
    timer.advance(0.1);
    expect(got).toEqual([["a", 1040]]);
    timer.advance(100);
    expect(got).toEqual([["a", 1040], ["b", 1045]]);
    expect(timer.pending).toBe(0);
  });

  it("the trace starts when the pipe is made (timer.now())", () => {
    const timer = new VirtualTimer(500);
    const at: number[] = [];
    const pipe = new LinkPipe<Uint8Array>({
      config: { rate: { kind: "trace", trace: parseTrace("10\n") } }, seed: 1, timer,
      deliver: (_p, packet) => at.push(packet.deliveryMs),
    });
    timer.advance(3);
    for (let i = 0; i < 3; i++) pipe.send(new Uint8Array(1500)); // size from byteLength
    timer.advance(100);
    expect(at).toEqual([510, 520, 530]);
  });

  it("a throwing receiver does not stop later deliveries", () => {
    const timer = new VirtualTimer();
    const errors: unknown[] = [];
    const got: number[] = [];
    const pipe = new LinkPipe<number>({
      config: { delayMs: 1 }, seed: 1, timer,
      deliver: (n) => {
        if (n === 1) throw new Error("receiver bug");
        got.push(n);
      },
      onDeliverError: (err) => errors.push(err),
    });
    [0, 1, 2].forEach((n) => pipe.send(n, 10));
    timer.advance(10);
    expect(got).toEqual([0, 2]);
    expect(pipe.deliverErrors).toBe(1);
    expect(errors).toHaveLength(1);
  });

  it("counts losses and queue drops; close() stops deliveries and refuses sends", () => {
    const timer = new VirtualTimer();
    const delivered: DeliveredPacket<number>[] = [];
    const pipe = new LinkPipe<number>({
      config: { rate: { kind: "fixed", bitsPerSecond: 80_000 }, queue: { kind: "packets", packets: 2 }, loss: { kind: "bernoulli", p: 0.5 } },
      seed: 2, timer, deliver: (_n, p) => delivered.push(p),
    });
    const results = Array.from({ length: 20 }, (_, i) => pipe.send(i, 100)); // 10 ms each at 80 kbps
    timer.advance(15);
    const c = pipe.counters();
    expect(c.packetsLost + c.packetsQueueDropped + c.packetsDelivered + c.packetsInFlight).toBe(20);
    expect(c.packetsLost).toBe(results.filter((r) => !r.accepted && r.reason === "loss").length);
    expect(c.packetsQueueDropped).toBeGreaterThan(0);
    expect(delivered.length).toBe(1);
    pipe.close();
    timer.advance(1000);
    expect(delivered.length).toBe(1);
    expect(timer.pending).toBe(0);
    expect(() => pipe.send(99, 10)).toThrow(/closed/);
  });

  it("sizeBytes is required for payloads that are not bytes", () => {
    const pipe = new LinkPipe<{ seq: number }>({ config: {}, seed: 1, timer: new VirtualTimer(), deliver: () => {} });
    expect(() => pipe.send({ seq: 1 })).toThrow(expect.objectContaining({ field: "sizeBytes" }));
  });
});

describe("LinkPipe with the real timer", () => {
  it("delivers no earlier than the configured delay", async () => {
    const sentAt = realTimer.now();
    const arrived = await new Promise<number>((resolve) => {
      const pipe = new LinkPipe<number>({ config: { delayMs: 30 }, seed: 1, deliver: () => { resolve(realTimer.now()); pipe.close(); } });
      pipe.send(1, 10);
    });
    expect(arrived - sentAt).toBeGreaterThanOrEqual(30);
  });
});
