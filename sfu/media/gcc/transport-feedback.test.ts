import { RtcpHeader, TransportWideCC } from "werift";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../encoder/synth/prng.ts";
import { lastReportedSeq, parseTransportFeedback, TransportFeedbackBuilder, TransportFeedbackError } from "./transport-feedback.ts";

/**
 * werift's own parser of the chunks and deltas, as an independent reading of the same bits (its
 * `packetResults` skips status vector chunks, so the statuses are taken from the chunks here).
 */
function weriftRead(buf: Uint8Array): { base: number; count: number; received: number[]; deltas: number } {
  const b = Buffer.from(buf);
  const header = RtcpHeader.deSerialize(b);
  const f = TransportWideCC.deSerialize(b.subarray(4), header);
  const statuses: number[] = [];
  for (const c of f.packetChunks) {
    if ("runLength" in c) for (let k = 0; k < c.runLength; k++) statuses.push(c.packetStatus);
    else statuses.push(...c.symbolList);
  }
  const received = statuses.slice(0, f.packetStatusCount).flatMap((s, k) => (s === 1 || s === 2 ? [(f.baseSequenceNumber + k) & 0xffff] : []));
  return { base: f.baseSequenceNumber, count: f.packetStatusCount, received, deltas: f.recvDeltas.length };
}

describe("transport-wide CC feedback", () => {
  it("reports every packet since the last feedback with its arrival time to 250 us", () => {
    const b = new TransportFeedbackBuilder();
    const arrivals = [[100, 1000.3], [101, 1001.1], [103, 1005], [104, 1004.5], [105, 1100]] as const;
    for (const [seq, at] of arrivals) b.onPacket(seq, at);
    const [buf, more] = b.build(0x1111, 0x2222);
    expect(more).toBeUndefined();
    const f = parseTransportFeedback(buf!);
    expect(f.senderSsrc).toBe(0x1111);
    expect(f.mediaSsrc).toBe(0x2222);
    expect(f.baseSeq).toBe(100);
    expect(f.packets.map((p) => p.seq)).toEqual([100, 101, 102, 103, 104, 105]);
    expect(f.packets[2]!.arrivalMs).toBeNull();
    const got = new Map(f.packets.filter((p) => p.arrivalMs !== null).map((p) => [p.seq, p.arrivalMs!]));
    for (const [seq, at] of arrivals) expect(Math.abs(got.get(seq)! - at)).toBeLessThanOrEqual(0.125);
    expect(lastReportedSeq(f)).toBe(105);
    expect(buf!.length % 4).toBe(0);
    const w = weriftRead(buf!);
    expect(w.base).toBe(100);
    expect(w.count).toBe(6);
    expect(w.received).toEqual([100, 101, 103, 104, 105]);
    expect(w.deltas).toBe(5);
    // Nothing new: nothing to send.
    expect(b.build(1, 2)).toEqual([]);
  });

  it("carries on across the 16-bit wrap, one feedback after another", () => {
    const b = new TransportFeedbackBuilder();
    for (let k = 0; k < 20; k++) b.onPacket((65530 + k) & 0xffff, 10 * k);
    const first = parseTransportFeedback(b.build(1, 2)[0]!);
    expect(first.baseSeq).toBe(65530);
    expect(first.packets).toHaveLength(20);
    expect(lastReportedSeq(first)).toBe(13);
    for (let k = 20; k < 25; k++) b.onPacket((65530 + k) & 0xffff, 10 * k);
    const second = parseTransportFeedback(b.build(1, 2)[0]!);
    expect(second.baseSeq).toBe(14);
    expect(second.packets.map((p) => p.seq)).toEqual([14, 15, 16, 17, 18]);
    expect(second.fbCount).toBe(first.fbCount + 1);
  });

  it("long runs and mixed statuses round-trip, and werift reads the same packets", () => {
    const rnd = mulberry32(7);
    for (let trial = 0; trial < 30; trial++) {
      const b = new TransportFeedbackBuilder();
      const start = Math.floor(rnd() * 65536);
      const received: number[] = [];
      let t = 5000 + rnd() * 1000;
      const n = 1 + Math.floor(rnd() * 400);
      for (let k = 0; k < n; k++) {
        // Bursts of loss, runs of arrivals, some late and some far apart.
        if (rnd() < (k % 50 < 10 ? 0.8 : 0.1) && k !== n - 1) continue;
        t += rnd() < 0.05 ? 100 + rnd() * 400 : rnd() * 3;
        const seq = (start + k) & 0xffff;
        b.onPacket(seq, t);
        received.push(seq);
      }
      const out = b.build(3, 4);
      const reported = out.flatMap((buf) => parseTransportFeedback(buf).packets.filter((p) => p.arrivalMs !== null).map((p) => p.seq));
      expect(reported).toEqual(received);
      expect(out.flatMap((buf) => weriftRead(buf).received)).toEqual(received);
    }
  });

  it("a reordered packet is in the same feedback; one that comes after its feedback is left out", () => {
    const b = new TransportFeedbackBuilder();
    b.onPacket(10, 100);
    b.onPacket(12, 101);
    b.onPacket(11, 102);
    const f = parseTransportFeedback(b.build(1, 2)[0]!);
    expect(f.packets.map((p) => p.arrivalMs !== null)).toEqual([true, true, true]);
    expect(f.packets[1]!.arrivalMs).toBeCloseTo(102, 1);
    b.onPacket(9, 150);
    b.onPacket(12, 151); // duplicate of a reported one
    expect(b.build(1, 2)).toEqual([]);
  });

  it("an arrival gap too long for a 16-bit delta starts a new feedback packet", () => {
    const b = new TransportFeedbackBuilder();
    b.onPacket(1, 0);
    b.onPacket(2, 20_000);
    const out = b.build(1, 2).map(parseTransportFeedback);
    expect(out).toHaveLength(2);
    expect(out[0]!.packets.map((p) => p.seq)).toEqual([1]);
    expect(out[1]!.packets.map((p) => p.seq)).toEqual([2]);
    expect(out[1]!.packets[0]!.arrivalMs).toBeCloseTo(20_000, 1);
  });

  it("a flood between two builds keeps at most maxStatuses packets and reports the newest", () => {
    const b = new TransportFeedbackBuilder({ maxStatuses: 100 });
    for (let k = 0; k < 5000; k++) b.onPacket(k & 0xffff, k / 10);
    const out = b.build(1, 2).map(parseTransportFeedback);
    const seqs = out.flatMap((f) => f.packets.map((p) => p.seq));
    expect(seqs.length).toBeLessThanOrEqual(100);
    expect(seqs.at(-1)).toBe(4999);
  });

  it("refuses malformed feedback with the field that is wrong", () => {
    const b = new TransportFeedbackBuilder();
    for (let k = 0; k < 30; k++) b.onPacket(k, k);
    const good = b.build(1, 2)[0]!;
    const bad = (mutate: (x: Uint8Array) => Uint8Array, field: string) => {
      let err: unknown;
      try {
        parseTransportFeedback(mutate(Uint8Array.from(good)));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TransportFeedbackError);
      expect((err as TransportFeedbackError).field).toBe(field);
    };
    bad((x) => x.subarray(0, 12), "length");
    bad((x) => ((x[0] = 0x40 | (x[0]! & 0x3f)), x), "version");
    bad((x) => ((x[1] = 200), x), "type");
    bad((x) => ((x[14] = 0), (x[15] = 0), x), "packetStatusCount");
    bad((x) => ((x[14] = 0x1f), (x[15] = 0xff), x), "deltas");
    bad((x) => x.subarray(0, 20).map((v, i) => (i === 3 ? 4 : v)), "chunks");
    bad((x) => x.subarray(0, 24).map((v, i) => (i === 3 ? 50 : v)), "length");
    // Random bytes never throw anything but the typed error.
    const rnd = mulberry32(3);
    for (let k = 0; k < 2000; k++) {
      const x = Uint8Array.from(good);
      for (let m = 0; m < 3; m++) x[Math.floor(rnd() * x.length)] = Math.floor(rnd() * 256);
      try {
        parseTransportFeedback(x);
      } catch (e) {
        expect(e).toBeInstanceOf(TransportFeedbackError);
      }
    }
  });
});
