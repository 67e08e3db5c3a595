/**
 * The context-aware encoder against the baseline on real ffmpeg encodes of a generated clip:
 * achieved bitrate, and PSNR inside and outside the region the map points at.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { mapFromRegions } from "../../encoder/importance/map.ts";
import { encodeRung, type LadderRequest } from "../../encoder/ladder/ladder.ts";
import { rungsByKbps } from "../../encoder/ladder/rungs.ts";
import { RoiPrefilter } from "../../encoder/prefilter/index.ts";
import { defaultClipSpec, generateClip, signRegions } from "../../encoder/synth/clip.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
let dir: string;
let base: LadderRequest;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "it-ladder-"));
  const spec = defaultClipSpec(7);
  const clip = await generateClip(ffmpeg, join(dir, "clip.mkv"), spec);
  const regions = signRegions(spec);
  base = {
    ffmpeg, input: clip.path, sourceWidth: spec.width, sourceHeight: spec.height, fps: spec.fps,
    outDir: dir, codec: "h264", rungs: [], route: "encoder-roi",
    maps: [{ atSec: 0, map: mapFromRegions(spec.width, spec.height, 64, regions) }],
    prefilter: new RoiPrefilter({ mode: "blur" }), measureBoxes: regions,
  };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("encodeRung, baseline against context-aware", () => {
  for (const kbps of [200, 50]) {
    it(`at ${kbps} kbps, both land within 15% of the target and the map's region gains at least 4 dB`, async () => {
      const [rung] = rungsByKbps([kbps]);
      const r = await encodeRung(base, rung!);
      const summary = `baseline ${r.baseline.kbps.toFixed(1)} kbps ROI ${r.baseline.roiPsnrDb.toFixed(2)} dB bg ${r.baseline.bgPsnrDb.toFixed(2)} dB; ` +
        `context ${r.context.kbps.toFixed(1)} kbps ROI ${r.context.roiPsnrDb.toFixed(2)} dB bg ${r.context.bgPsnrDb.toFixed(2)} dB`;
      expect(Math.abs(r.baseline.kbps - kbps) / kbps, summary).toBeLessThanOrEqual(0.15);
      expect(Math.abs(r.context.kbps - kbps) / kbps, summary).toBeLessThanOrEqual(0.15);
      expect(r.context.roiPsnrDb - r.baseline.roiPsnrDb, summary).toBeGreaterThanOrEqual(4);
      // The bits came from somewhere: the background is worse than the baseline's.
      expect(r.context.bgPsnrDb, summary).toBeLessThan(r.baseline.bgPsnrDb);
      expect(r.baseline.perFrame.length).toBe(150);
    });
  }

  it("through region control and the pre-filter together, the region still gains at 100 kbps", async () => {
    const [rung] = rungsByKbps([100]);
    const r = await encodeRung({ ...base, route: "both" }, rung!);
    const summary = `baseline ROI ${r.baseline.roiPsnrDb.toFixed(2)} dB, context ROI ${r.context.roiPsnrDb.toFixed(2)} dB at ${r.context.kbps.toFixed(1)} kbps`;
    expect(r.context.roiPsnrDb - r.baseline.roiPsnrDb, summary).toBeGreaterThanOrEqual(4);
    expect(Math.abs(r.context.kbps - 100) / 100, summary).toBeLessThanOrEqual(0.15);
  });
});
