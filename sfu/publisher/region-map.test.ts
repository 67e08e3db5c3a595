import { describe, expect, it } from "vitest";
import { mapFromRegions } from "../../encoder/importance/map.ts";
import { encoderArgs, decoderArgs, type EncoderSettings } from "./encoder-args.ts";
import { RegionMapTracker, regionMapVersion } from "./region-map.ts";
import { roiRectsForMap } from "./roi-rects.ts";
import type { RegionMapMessage } from "../protocol/datachannel.ts";

function msg(over: Partial<RegionMapMessage> = {}): RegionMapMessage {
  const width = over.width ?? 640;
  const height = over.height ?? 360;
  const blockSize = over.blockSize ?? 64;
  const n = Math.ceil(width / blockSize) * Math.ceil(height / blockSize);
  return { type: "region-map", version: 1, validUntilMs: 10_000, width, height, blockSize, weights: new Array<number>(n).fill(0.5), ...over };
}

describe("RegionMapTracker.offer", () => {
  it("a valid map, applies it and reports its version", () => {
    const t = new RegionMapTracker(640, 360);
    const d = t.offer(msg(), 1000);
    expect(d.applied).toBe(true);
    expect(t.current?.version).toBe(1);
    expect(t.current?.map.cols).toBe(10);
  });

  it.each([
    ["stale-version", { version: 1 }, "not above the last applied version 1"],
    ["expired", { version: 2, validUntilMs: 1000 }, "not after now"],
    ["weights-count", { version: 2, weights: [1, 0] as number[] }, "needs 60 weights, got 2"],
    ["weights-range", { version: 2, weights: new Array<number>(60).fill(0).map((v, i) => (i === 7 ? 1.5 : v)) }, "weight 7 is 1.5"],
    ["shape-mismatch", { version: 2, width: 640, height: 480, weights: new Array<number>(80).fill(0) }, "another shape"],
  ] as Array<[string, Partial<RegionMapMessage>, string]>)("a map that is %s, is refused with that reason and leaves the map in force", (reason, over, text) => {
    const t = new RegionMapTracker(640, 360);
    t.offer(msg(), 1000);
    const d = t.offer(msg(over), 1000);
    expect(d).toMatchObject({ applied: false, reason, version: over.version });
    if (!d.applied) expect(d.message).toContain(text);
    expect(t.current?.version).toBe(1);
  });

  it("a map of the same shape at another size, is applied", () => {
    const t = new RegionMapTracker(1280, 720);
    expect(t.offer(msg(), 0).applied).toBe(true);
  });

  it("the first map with version 0, is applied", () => {
    expect(new RegionMapTracker(640, 360).offer(msg({ version: 0 }), 0).applied).toBe(true);
  });
});

describe("RegionMapTracker.expire", () => {
  it("before validUntilMs keeps the map, at validUntilMs drops it, and later maps still need a higher version", () => {
    const t = new RegionMapTracker(640, 360);
    t.offer(msg({ version: 4, validUntilMs: 5000 }), 1000);
    expect(t.expire(4999)).toBe(false);
    expect(t.current?.version).toBe(4);
    expect(t.expire(5000)).toBe(true);
    expect(t.current).toBeNull();
    expect(t.expire(6000)).toBe(false);
    expect(t.offer(msg({ version: 4, validUntilMs: 9000 }), 6000)).toMatchObject({ applied: false, reason: "stale-version" });
    expect(t.offer(msg({ version: 5, validUntilMs: 9000 }), 6000).applied).toBe(true);
  });
});

describe("roiRectsForMap", () => {
  const sign = { x: 128, y: 64, width: 192, height: 64 };
  it("a map on a sign, gives rectangles that cover the sign at the finest offset and the rest at >= that", () => {
    const rects = roiRectsForMap(mapFromRegions(1280, 720, 64, [{ x: 256, y: 128, width: 384, height: 128 }]), 640, 360, "h264");
    const finest = Math.min(...rects.map((r) => r.qpOffset));
    expect(finest).toBe(-25);
    const covering = rects.filter((r) => r.x <= sign.x + 8 && r.y <= sign.y + 8 && r.x + r.width >= sign.x + 24 && r.y + r.height >= sign.y + 24);
    expect(covering[0]?.qpOffset).toBe(-25);
    expect(rects.every((r) => r.qpOffset < 0)).toBe(true);
  });

  it("a uniform map, gives no rectangles", () => {
    expect(roiRectsForMap(mapFromRegions(640, 360, 64, []), 640, 360, "h264")).toEqual([]);
  });

  it("VP8, gives at most 3 offset levels", () => {
    const rects = roiRectsForMap(mapFromRegions(640, 360, 16, [sign]), 640, 360, "vp8");
    expect(new Set(rects.map((r) => r.qpOffset)).size).toBeLessThanOrEqual(3);
  });
});

describe("encoderArgs / decoderArgs", () => {
  const base: EncoderSettings = { codec: "h264", width: 640, height: 360, fps: 5, bitrateBps: 150_000, keyframeIntervalSec: 10, h264Framing: "flv", rects: [] };

  it("H.264 without rectangles, is zero-latency constrained baseline ABR at the cap, the frame rate as input rate, in FLV", () => {
    const a = encoderArgs(base).join(" ");
    expect(a).toContain("-r 5 -i pipe:0");
    expect(a).toContain("[0:v:0]null[out]");
    expect(a).toContain("-tune zerolatency -profile:v baseline");
    expect(a).toContain("-b:v 150k -maxrate 150k -bufsize 150k -g 50");
    expect(a).toMatch(/-flush_packets 1 .*-f flv pipe:1$/);
  });

  it("rectangles, become an addroi chain in the filter graph", () => {
    const a = encoderArgs({ ...base, rects: [{ x: 0, y: 16, width: 32, height: 48, qpOffset: -25 }] }).join(" ");
    expect(a).toContain("[0:v:0]addroi=x=0:y=16:w=32:h=48:qoffset=-0.49020[out]");
  });

  it("VP8, is libvpx realtime without lag in IVF; Annex B H.264 uses -f h264", () => {
    expect(encoderArgs({ ...base, codec: "vp8" }).join(" ")).toMatch(/libvpx -deadline realtime .*-lag-in-frames 0.*-f ivf pipe:1$/);
    expect(encoderArgs({ ...base, h264Framing: "annexb" }).join(" ")).toMatch(/-f h264 pipe:1$/);
  });

  it("intra-only (a keyframe interval of one frame), is -g 1; VP8 then caps each intra frame at the average frame", () => {
    const intra = { ...base, keyframeIntervalSec: 1 / base.fps };
    expect(encoderArgs(intra).join(" ")).toContain("-g 1 ");
    expect(encoderArgs({ ...intra, codec: "vp8" }).join(" ")).toContain("-max-intra-rate 100");
    expect(encoderArgs({ ...base, codec: "vp8" }).join(" ")).not.toContain("-max-intra-rate");
  });

  it("decoderArgs with loop, reads in real time and loops before the input", () => {
    const a = decoderArgs({ input: "a.mkv", loop: true, width: 640, height: 360, fps: 30 }).join(" ");
    expect(a).toContain("-stream_loop -1 -re -i a.mkv");
    expect(a).toContain("fps=30,scale=640:360:flags=bicubic,format=yuv420p");
  });
});

describe("regionMapVersion", () => {
  it("a region map the schema refuses, still gives its version; other messages and junk give null", () => {
    expect(regionMapVersion(JSON.stringify({ type: "region-map", version: 7, weights: "x" }))).toBe(7);
    expect(regionMapVersion(JSON.stringify({ type: "rate-target", version: 7 }))).toBeNull();
    expect(regionMapVersion(JSON.stringify({ type: "region-map", version: -1 }))).toBeNull();
    expect(regionMapVersion("{not json")).toBeNull();
  });
});
