import { describe, expect, it } from "vitest";
import { splitH264AccessUnits } from "../../encoder/rtp/elementary.ts";
import { joinAnnexB, splitAnnexB } from "../../encoder/rtp/h264.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";
import { PublisherError } from "./errors.ts";
import { AnnexBAccessUnitReader, FlvH264Reader, IvfFrameReader, type FrameReader } from "./framing.ts";

/** A NAL of `size` bytes: the header, then random bytes kept free of start codes (no 00 00 0x, x <= 3). */
function nal(rand: () => number, type: number, size: number, firstMbZero = true): Uint8Array {
  const out = new Uint8Array(size);
  out[0] = 0x60 | type;
  for (let i = 1; i < size; i++) {
    let b = rand() < 0.3 ? 0 : Math.floor(rand() * 256);
    if (i >= 3 && out[i - 1] === 0 && out[i - 2] === 0 && b <= 3) b = 3;
    out[i] = b;
  }
  // first_mb_in_slice is the first ue(v): a leading 1 bit means 0.
  if (type === 1 || type === 5) out[1] = firstMbZero ? out[1]! | 0x80 : (out[1]! & 0x7f) | 0x40;
  if (out[size - 1] === 0) out[size - 1] = 0x80;
  return out;
}

/** Access units like x264 with two slices per frame: SPS, PPS and IDR first, then P frames. */
function accessUnits(rand: () => number, count: number): Uint8Array[][] {
  return Array.from({ length: count }, (_, k) => {
    const t = k % 5 === 0 ? 5 : 1;
    const head = t === 5 ? [nal(rand, 7, 12), nal(rand, 8, 5)] : [];
    return [...head, nal(rand, t, 20 + Math.floor(rand() * 3000)), nal(rand, t, 10 + Math.floor(rand() * 500), false)];
  });
}

/** Feeds `stream` in random chunks; returns the frames and how many were out after each push. */
function feed(reader: FrameReader, stream: Uint8Array, rand: () => number, maxChunk: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < stream.length; ) {
    const n = 1 + Math.floor(rand() * maxChunk);
    out.push(...reader.push(stream.subarray(off, off + n)));
    off += n;
  }
  return out;
}

describe("AnnexBAccessUnitReader", () => {
  for (const maxChunk of [1, 7, 200, 5000]) {
    it(`push, a stream in random chunks of up to ${maxChunk} bytes, gives every access unit but the last, and flush the last`, () => {
      const rand = mulberry32(maxChunk);
      const aus = accessUnits(rand, 12);
      const stream = joinAnnexB(aus.flat());
      const reader = new AnnexBAccessUnitReader();
      const pushed = feed(reader, stream, rand, maxChunk);
      expect(pushed.length).toBe(aus.length - 1);
      const all = [...pushed, ...reader.flush()];
      expect(all).toEqual(splitH264AccessUnits(stream));
      expect(all.map((u) => splitAnnexB(u).length)).toEqual(aus.map((a) => a.length));
    });
  }

  it("push, an access unit whose successor has not begun, holds it back until the next one starts", () => {
    const rand = mulberry32(3);
    const [a, b] = accessUnits(rand, 2) as [Uint8Array[], Uint8Array[]];
    const reader = new AnnexBAccessUnitReader();
    expect(reader.push(joinAnnexB(a))).toEqual([]);
    // Only the next unit's first bytes: its start code and its NAL header.
    const next = joinAnnexB(b);
    expect(reader.push(next.subarray(0, 6))).toEqual([joinAnnexB(a)]);
    expect(reader.push(next.subarray(6))).toEqual([]);
    expect(reader.flush()).toEqual([next]);
  });

  it("push, bytes before any start code, throws STREAM_MALFORMED", () => {
    const reader = new AnnexBAccessUnitReader();
    expect(() => reader.push(new Uint8Array([9, 9, 0, 0, 1, 0x65, 0x88]))).toThrow(PublisherError);
  });
});

function ivf(frames: Uint8Array[]): Uint8Array {
  const header = new Uint8Array(32);
  header.set([0x44, 0x4b, 0x49, 0x46]);
  new DataView(header.buffer).setUint16(6, 32, true);
  const parts: Uint8Array[] = [header];
  frames.forEach((f, i) => {
    const h = new Uint8Array(12);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, f.length, true);
    dv.setUint32(4, i, true);
    parts.push(h, f);
  });
  return joinBytes(parts);
}

function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

describe("IvfFrameReader", () => {
  it("push, an IVF stream in random chunks, gives each frame as soon as its last byte arrived", () => {
    const rand = mulberry32(5);
    const frames = Array.from({ length: 10 }, (_, i) => new Uint8Array(1 + i * 97).map(() => Math.floor(rand() * 256)));
    const stream = ivf(frames);
    const reader = new IvfFrameReader();
    expect(feed(reader, stream, rand, 50)).toEqual(frames);
    expect(reader.flush()).toEqual([]);
  });

  it("push, a stream that is not IVF, throws STREAM_MALFORMED", () => {
    expect(() => new IvfFrameReader().push(new Uint8Array(40))).toThrow(/DKIF/);
  });
});

/** An FLV stream as ffmpeg writes it: header, a script tag, the AVC sequence header, NALU tags. */
function flv(sps: Uint8Array, pps: Uint8Array, frames: Uint8Array[][]): Uint8Array {
  const tag = (type: number, data: Uint8Array) => {
    const h = new Uint8Array(11);
    h.set([type, (data.length >> 16) & 0xff, (data.length >> 8) & 0xff, data.length & 0xff]);
    const prev = new Uint8Array(4);
    new DataView(prev.buffer).setUint32(0, 11 + data.length);
    return joinBytes([h, data, prev]);
  };
  const config = joinBytes([
    new Uint8Array([1, sps[1]!, sps[2]!, sps[3]!, 0xff, 0xe1, 0, sps.length]), sps,
    new Uint8Array([1, 0, pps.length]), pps,
  ]);
  const parts = [new Uint8Array([0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0]), tag(18, new Uint8Array(30))];
  parts.push(tag(9, joinBytes([new Uint8Array([0x17, 0, 0, 0, 0]), config])));
  for (const nals of frames) {
    const key = nals.some((n) => (n[0]! & 0x1f) === 5);
    const body = nals.flatMap((n) => {
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, n.length);
      return [len, n];
    });
    parts.push(tag(9, joinBytes([new Uint8Array([key ? 0x17 : 0x27, 1, 0, 0, 0]), ...body])));
  }
  return joinBytes(parts);
}

describe("FlvH264Reader", () => {
  it("push, FLV in random chunks, gives Annex B access units with SPS and PPS in front of each IDR", () => {
    const rand = mulberry32(9);
    const sps = nal(rand, 7, 14);
    const pps = nal(rand, 8, 4);
    const frames = accessUnits(rand, 11).map((au) => au.filter((n) => (n[0]! & 0x1f) !== 7 && (n[0]! & 0x1f) !== 8));
    const reader = new FlvH264Reader();
    const out = feed(reader, flv(sps, pps, frames), rand, 300);
    expect(out.length).toBe(frames.length);
    out.forEach((unit, k) => {
      const want = (frames[k]![0]![0]! & 0x1f) === 5 ? [sps, pps, ...frames[k]!] : frames[k]!;
      expect(splitAnnexB(unit)).toEqual(want);
    });
  });

  it("push, a stream that is not FLV, throws STREAM_MALFORMED", () => {
    expect(() => new FlvH264Reader().push(new Uint8Array(20))).toThrow(/not FLV/);
  });
});
