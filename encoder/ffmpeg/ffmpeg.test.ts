import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseX264AvgQp, validateEncodeRequest } from "./encode.ts";
import { readIvfFrames, splitH264AccessUnits } from "../rtp/elementary.ts";
import { addroiChain, qoffsetFraction, roiScheduleGraph } from "./filtergraph.ts";
import { parseProbe } from "./probe.ts";
import { resolveFfmpeg } from "./resolve.ts";

describe("resolveFfmpeg", () => {
  const dir = mkdtempSync(join(tmpdir(), "resolve-"));
  const exe = join(dir, "ffmpeg");
  writeFileSync(exe, "#!/bin/sh\n");
  chmodSync(exe, 0o755);

  it("prefers FFMPEG_PATH, then ffmpeg-static, then PATH", () => {
    expect(resolveFfmpeg({ env: { FFMPEG_PATH: exe, PATH: "" }, staticBinary: () => null })).toEqual({ path: exe, source: "FFMPEG_PATH" });
    expect(resolveFfmpeg({ env: { PATH: "/nonexistent" }, staticBinary: () => exe })).toEqual({ path: exe, source: "ffmpeg-static" });
    expect(resolveFfmpeg({ env: { PATH: `/nonexistent:${dir}` }, staticBinary: () => null })).toEqual({ path: exe, source: "PATH" });
  });

  it("with FFMPEG_PATH pointing at nothing, says so instead of falling back", () => {
    expect(() => resolveFfmpeg({ env: { FFMPEG_PATH: join(dir, "nope"), PATH: dir }, staticBinary: () => null })).toThrow(/FFMPEG_PATH is set to/);
  });

  it("with no ffmpeg anywhere, raises FFMPEG_NOT_FOUND telling how to get one", () => {
    expect(() => resolveFfmpeg({ env: { PATH: "/nonexistent" }, staticBinary: () => null })).toThrow(/apt-get install ffmpeg/);
  });
});

describe("filter graphs", () => {
  it("scales H.264 QP offsets by 51 and clamps to [-1, 1]", () => {
    expect(qoffsetFraction(-25.5, "h264")).toBeCloseTo(-0.5, 6);
    expect(qoffsetFraction(-80, "h264")).toBe(-1);
  });

  it("chains one addroi per rectangle, first rectangle first", () => {
    const s = addroiChain([{ x: 0, y: 16, width: 32, height: 48, qpOffset: -10 }, { x: 64, y: 0, width: 16, height: 16, qpOffset: -5 }], "h264");
    expect(s).toBe("addroi=x=0:y=16:w=32:h=48:qoffset=-0.19608,addroi=x=64:y=0:w=16:h=16:qoffset=-0.09804");
    expect(addroiChain([], "h264")).toBe("null");
  });

  it("with a schedule of two maps, switches branches with sendcmd at the second map's time", () => {
    const g = roiScheduleGraph([
      { atSec: 2.5, rects: [{ x: 0, y: 0, width: 16, height: 16, qpOffset: -8 }] },
      { atSec: 0, rects: [] },
    ], "h264", "in", "out");
    expect(g).toContain("[in]sendcmd=c='2.500 streamselect@roisel map 1',split=2[roib0][roib1]");
    expect(g).toContain("[roib0]null[roia0]");
    expect(g).toContain("[roia0][roia1]streamselect@roisel=inputs=2:map=0[out]");
    expect(() => roiScheduleGraph([{ atSec: -1, rects: [] }], "h264", "a", "b")).toThrow(/>= 0/);
  });
});

describe("ffmpeg output parsing", () => {
  it("reads size, rate and duration from ffmpeg's input report", () => {
    const info = parseProbe(`Input #0, matroska,webm, from 'c.mkv':
  Duration: 00:00:05.00, start: 0.000000, bitrate: 30962 kb/s
  Stream #0:0: Video: h264 (High 4:4:4 Predictive), yuv420p(progressive), 1280x720 [SAR 1:1 DAR 16:9], 30 fps, 30 tbr, 1k tbn (default)`);
    expect(info).toEqual({ codec: "h264", width: 1280, height: 720, fps: 30, durationSec: 5 });
    expect(parseProbe("c.mkv: Invalid data found when processing input")).toBeNull();
  });

  it("averages x264's per-type QP weighted by frame counts", () => {
    const qp = parseX264AvgQp("[libx264 @ 0x1] frame I:1     Avg QP:50.00  size:  1571\n[libx264 @ 0x1] frame P:3   Avg QP:46.00  size:   813");
    expect(qp).toBeCloseTo(47, 6);
    expect(parseX264AvgQp("nothing")).toBeNull();
  });

  it("splits H.264 into access units at parameter sets and first slices, and IVF into frames", () => {
    // SPS, IDR slice (first_mb 0), a second slice of the same picture (first_mb != 0), then a P slice.
    const au = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x65, 0x88, 7, 0, 0, 1, 0x65, 0x40, 3, 0, 0, 1, 0x41, 0x9a, 1];
    const units = splitH264AccessUnits(new Uint8Array(au));
    expect(units.length).toBe(2);
    expect([...units[1]!]).toEqual([0, 0, 0, 1, 0x41, 0x9a, 1]);
    const ivf = new Uint8Array(32 + 12 + 5 + 12 + 3);
    ivf.set([0x44, 0x4b, 0x49, 0x46, 0, 0, 32, 0]);
    const dv = new DataView(ivf.buffer);
    dv.setUint32(32, 5, true);
    dv.setUint32(32 + 12 + 5, 3, true);
    expect(readIvfFrames(ivf).frames.map((f) => f.length)).toEqual([5, 3]);
    dv.setUint32(32, 500, true);
    expect(() => readIvfFrames(ivf)).toThrow(/claims 500 bytes/);
  });
});

describe("validateEncodeRequest", () => {
  const ok = { ffmpeg: "ffmpeg", input: "in.mkv", output: "o.h264", codec: "h264" as const, width: 640, height: 360, bitrateKbps: 100 };
  it("with a zero, negative or missing bitrate, raises INVALID_BITRATE", () => {
    for (const b of [0, -100, Number.NaN]) {
      expect(() => validateEncodeRequest({ ...ok, bitrateKbps: b })).toThrow(expect.objectContaining({ code: "INVALID_BITRATE" }));
    }
  });
  it("with an odd size or a wrong output extension, names the field", () => {
    expect(() => validateEncodeRequest({ ...ok, width: 641 })).toThrow(/width must be an even integer/);
    expect(() => validateEncodeRequest({ ...ok, output: "o.mp4" })).toThrow(/must end in .h264/);
  });
});
