import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import type { Sample } from "../types.ts";
import { parseCondition } from "./conditions.ts";
import { defaultNetworkSettings } from "./link-frames.ts";
import { planFor, regionGroups, retransmissionMediaShare } from "./run-clip.ts";
import { ClipEncoder, decodeReleased, shiftRoiSchedule } from "./sender.ts";

const rect = (x: number) => ({ x, y: 0, width: 16, height: 16, qpOffset: -6 });

describe("shiftRoiSchedule", () => {
  it("a static map: a PLI segment keeps the same rectangles from its first frame", () => {
    expect(shiftRoiSchedule([{ atSec: 0, rects: [rect(0)] }], 2.4)).toEqual([{ atSec: 0, rects: [rect(0)] }]);
  });

  it("a changing map: the entry in force at the segment's start moves to 0, later ones move earlier", () => {
    const s = [{ atSec: 0, rects: [rect(0)] }, { atSec: 1, rects: [rect(16)] }, { atSec: 3, rects: [rect(32)] }];
    expect(shiftRoiSchedule(s, 2)).toEqual([{ atSec: 0, rects: [rect(16)] }, { atSec: 1, rects: [rect(32)] }]);
  });

  it("a map that starts after the segment's start: no rectangles until it does", () => {
    expect(shiftRoiSchedule([{ atSec: 3, rects: [rect(0)] }], 1)).toEqual([{ atSec: 0, rects: [] }, { atSec: 2, rects: [rect(0)] }]);
    expect(shiftRoiSchedule([], 1)).toEqual([]);
  });
});

describe("regionGroups", () => {
  const sample = (id: string, x: number) => ({ id, regions: [{ x, y: 0, width: 10, height: 10 }] }) as unknown as Sample;

  it("context: one group per distinct ground-truth region; baseline: one group without regions", () => {
    const ss = [sample("a", 0), sample("b", 0), sample("c", 50)];
    expect(regionGroups(ss, "context").map((g) => g.samples.map((s) => s.id))).toEqual([["a", "b"], ["c"]]);
    expect(regionGroups(ss, "baseline")).toEqual([{ regions: null, samples: ss }]);
  });

  it("context without a ground-truth region is an error naming the sample", () => {
    expect(() => regionGroups([{ id: "x", regions: [] } as unknown as Sample], "context")).toThrow(/sample x/);
  });
});

describe("planFor: the encoder's share of the cap", () => {
  const s = defaultNetworkSettings("ffmpeg", "h264", 1280, 720, 600_000, 1, "/nonexistent");

  it("classic: retransmissions come out of the cap (libwebrtc), so its encoder gets 1 - p of it on a lossy link", () => {
    expect(planFor("classic", parseCondition("loss=0.1,rtt=100"), s).sender.bitrateBps).toBe(540_000);
    expect(planFor("classic", parseCondition("loss=0.05,rtt=100"), s).sender.bitrateBps).toBe(570_000);
    // No random loss configured (a trace's queue drops are not known in advance): the whole cap.
    expect(planFor("classic", parseCondition("rate=300000,rtt=100"), s).sender.bitrateBps).toBe(600_000);
  });

  it("resilient: the parity's share, less than classic's at the same loss", () => {
    const r = planFor("resilient", parseCondition("loss=0.1,rtt=100"), s);
    expect(r.fec).not.toBeNull();
    expect(r.sender.bitrateBps).toBeLessThan(540_000);
  });

  it("takes at most half for protection, and refuses a loss rate outside [0, 1)", () => {
    expect(retransmissionMediaShare(0)).toBe(1);
    expect(retransmissionMediaShare(0.8)).toBe(0.5);
    expect(() => retransmissionMediaShare(1)).toThrow(/lossRate/);
    expect(() => retransmissionMediaShare(Number.NaN)).toThrow(/lossRate/);
  });
});

describe("ClipEncoder.skip (the sender's frame dropper)", () => {
  it("encodes on from the frame before a skipped one: no keyframe, the frames already sent unchanged, the rest decodable", async () => {
    const ffmpeg = resolveFfmpeg({ env: process.env }).path;
    const dir = mkdtempSync(join(tmpdir(), "clip-skip-"));
    try {
      const input = join(dir, "in.mp4");
      await runFfmpeg(ffmpeg, ["-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=10:d=2", "-c:v", "libx264", "-preset", "ultrafast", input]);
      const settings = { codec: "h264" as const, width: 320, height: 180, fps: 10, bitrateBps: 200_000, mode: "gop" as const };
      const open = () => ClipEncoder.open({ ffmpeg, input, durationSec: 2, settings, cacheDir: join(dir, "cache") });
      const plain = await open();
      const skipping = await open();
      const sent: Uint8Array[] = [];
      const keyframes: boolean[] = [];
      for (let i = 0; i < plain.frameCount; i++) {
        if (i === 5 || i === 6 || i === 12) {
          await skipping.skip(i);
          continue;
        }
        const f = await skipping.frame(i, false);
        sent.push(f.data);
        keyframes.push(f.keyframe);
        // Frames before the first skip are the plain encode's; the frame after it is encoded from frame 4, not 6.
        if (i < 5) expect(Buffer.from(f.data).equals(Buffer.from((await plain.frame(i, false)).data))).toBe(true);
        if (i === 7) expect(Buffer.from(f.data).equals(Buffer.from((await plain.frame(i, false)).data))).toBe(false);
      }
      expect(skipping.skips).toBe(3);
      expect(skipping.restarts).toBe(0);
      expect(keyframes.filter(Boolean)).toHaveLength(1);
      await expect(skipping.frame(5, false)).rejects.toThrow(/skipped/);
      const decoded = await decodeReleased(ffmpeg, "h264", sent, sent.map((_, k) => k), { width: 320, height: 180 }, sent.map((_, k) => k * 100), dir);
      expect(decoded.size).toBe(plain.frameCount - 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
