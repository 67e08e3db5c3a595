/**
 * Encode ladder: each rung encoded twice with everything equal but the region map: baseline (no
 * map) and context-aware (the map, applied through the encoder's region control, the pixel-domain
 * pre-filter, or both). The context-aware offsets come from the budget-aware allocator, calibrated
 * on the baseline encode of the same rung (same content, same bitrate, its average QP).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { EncoderError } from "../errors.ts";
import { encodeVideo, type EncodeResult, type FramePrefilter, type MapScheduleEntry } from "../ffmpeg/encode.ts";
import type { Codec, RoiScheduleEntry } from "../ffmpeg/filtergraph.ts";
import { decodeFrames } from "../ffmpeg/frames.ts";
import { resampleMap } from "../importance/map.ts";
import { measureRegionPsnr } from "../metrics/measure.ts";
import type { Box } from "../metrics/psnr.ts";
import { allocateForBudget, calibrateRateModel, type BudgetAllocation } from "../quality/budget.ts";
import { blockComplexity } from "../quality/complexity.ts";
import { qpOffsetMap, relativeToBackground, type QpOffsetMap } from "../quality/qp.ts";
import { offsetMapToRects } from "../quality/rois.ts";
import type { Rung } from "./rungs.ts";

export type ContextRoute = "encoder-roi" | "prefilter" | "both";

export interface LadderRequest {
  readonly ffmpeg: string;
  readonly input: string;
  /** Source picture size (the maps and boxes are in these pixels). */
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  readonly fps: number;
  readonly durationSec?: number;
  readonly outDir: string;
  readonly codec: Codec;
  readonly rungs: readonly Rung[];
  /** Importance maps over time, in source pixels. One entry = a static map. */
  readonly maps: readonly MapScheduleEntry[];
  readonly route: ContextRoute;
  /** Needed for the "prefilter" and "both" routes. */
  readonly prefilter?: FramePrefilter;
  /** Boxes (source pixels) inside which "ROI PSNR" is measured; the rest is "background". */
  readonly measureBoxes: readonly Box[];
  /** Called after each encode, for progress output. */
  readonly onStep?: (step: { rung: Rung; method: "baseline" | "context"; result: EncodeResult }) => void;
}

export interface MethodResult {
  readonly kbps: number;
  readonly roiPsnrDb: number;
  readonly bgPsnrDb: number;
  readonly speedX: number;
  readonly avgQp: number | null;
  readonly output: string;
  readonly perFrame: ReadonlyArray<{ readonly roiDb: number; readonly bgDb: number }>;
}

export interface RungResult {
  readonly targetKbps: number;
  readonly width: number;
  readonly height: number;
  readonly baseline: MethodResult;
  readonly context: MethodResult;
  /** The allocator's decision for the first map (predicted QPs, regime). */
  readonly allocation: Pick<BudgetAllocation, "qpRoi" | "qpBackground" | "regime"> | null;
  /** Encode speed, media seconds per wall second, over both encodes. */
  readonly speedX: number;
}

function scaleBox(b: Box, sx: number, sy: number): Box {
  return { x: b.x * sx, y: b.y * sy, width: b.width * sx, height: b.height * sy };
}

export interface ContextPlanRequest {
  readonly ffmpeg: string;
  readonly input: string;
  readonly fps: number;
  readonly codec: Codec;
  readonly rung: Rung;
  /** Importance maps over time, in source pixels. */
  readonly maps: readonly MapScheduleEntry[];
  /** The baseline encode of the same input at the same rung (calibrates the rate model). */
  readonly baseline: Pick<EncodeResult, "avgQp" | "payloadBytes" | "frames">;
  /** Plan encoder region control (rectangles); false when only the pre-filter is used. */
  readonly useEncoderRoi: boolean;
}

export interface ContextPlan {
  /** The maps at the rung's size on the 16x16 macroblock grid (for the pre-filter). */
  readonly rungMaps: MapScheduleEntry[];
  /** Region-control rectangles over time (empty when not planned). */
  readonly roi: RoiScheduleEntry[];
  readonly allocation: RungResult["allocation"];
}

/**
 * Plans the context-aware encode of one rung: maps resampled to the rung, and region-control
 * rectangles from the budget-aware allocator calibrated on the baseline encode (Artic's fixed
 * curve when the encoder reports no QP, as with VP8).
 */
export async function planContextEncode(req: ContextPlanRequest): Promise<ContextPlan> {
  const { rung, baseline } = req;
  if (req.maps.length === 0) throw new EncoderError("INVALID_MAP", "the context-aware method needs at least one importance map");
  // Maps at the rung's size, on the 16x16 macroblock grid both codecs use.
  const rungMaps = req.maps.map((e) => ({ atSec: e.atSec, map: resampleMap(e.map, rung.width, rung.height, 16) }));
  let allocation: RungResult["allocation"] = null;
  let roi: RoiScheduleEntry[] = [];
  if (req.useEncoderRoi) {
    const luma: Uint8Array[] = [];
    for await (const f of decodeFrames({
      ffmpeg: req.ffmpeg, inputArgs: ["-i", req.input], filters: [`fps=${req.fps}`],
      width: rung.width, height: rung.height, pixFmt: "gray", maxFrames: 8,
    })) luma.push(f);
    const complexity = blockComplexity(luma, rung.width, rung.height, 16);
    roi = rungMaps.map((e, i) => {
      let offsets: QpOffsetMap;
      if (baseline.avgQp !== null) {
        const bitsPerFrame = (baseline.payloadBytes * 8) / baseline.frames;
        const model = calibrateRateModel(bitsPerFrame, baseline.avgQp, complexity);
        const alloc = allocateForBudget(e.map, { targetBitsPerFrame: (rung.targetKbps * 1000) / req.fps, complexity, model });
        if (i === 0) allocation = { qpRoi: alloc.qpRoi, qpBackground: alloc.qpBackground, regime: alloc.regime };
        offsets = alloc.offsets;
      } else {
        // No QP report (VP8): Artic's fixed curve.
        offsets = qpOffsetMap(e.map);
      }
      return {
        atSec: e.atSec,
        rects: offsetMapToRects(relativeToBackground(offsets), { maxLevels: req.codec === "vp8" ? 3 : Infinity }),
      };
    });
  }
  return { rungMaps, roi, allocation };
}

export async function encodeRung(req: LadderRequest, rung: Rung): Promise<RungResult> {
  // Checked before the baseline encode, so a bad request costs no encoding.
  if (req.maps.length === 0) throw new EncoderError("INVALID_MAP", "the context-aware method needs at least one importance map");
  if ((req.route === "prefilter" || req.route === "both") && !req.prefilter) {
    throw new EncoderError("INVALID_OPTION", `route "${req.route}" needs a pre-filter`);
  }
  mkdirSync(req.outDir, { recursive: true });
  const tag = `${rung.targetKbps}k-${rung.width}x${rung.height}`;
  const ext = req.codec === "h264" ? "h264" : "ivf";
  const common = {
    ffmpeg: req.ffmpeg,
    input: req.input,
    codec: req.codec,
    width: rung.width,
    height: rung.height,
    fps: req.fps,
    bitrateKbps: rung.targetKbps,
    ...(req.durationSec !== undefined ? { durationSec: req.durationSec } : {}),
  };
  const baseline = await encodeVideo({ ...common, output: join(req.outDir, `${tag}-baseline.${ext}`) });
  req.onStep?.({ rung, method: "baseline", result: baseline });

  const plan = await planContextEncode({
    ffmpeg: req.ffmpeg, input: req.input, fps: req.fps, codec: req.codec, rung, maps: req.maps,
    baseline, useEncoderRoi: req.route !== "prefilter",
  });
  const { rungMaps, roi, allocation } = plan;
  const context = await encodeVideo({
    ...common,
    output: join(req.outDir, `${tag}-context.${ext}`),
    roi,
    ...(req.route !== "encoder-roi" ? { prefilter: { filter: req.prefilter!, schedule: rungMaps } } : {}),
  });
  req.onStep?.({ rung, method: "context", result: context });

  const sx = rung.width / req.sourceWidth;
  const sy = rung.height / req.sourceHeight;
  const boxes = req.measureBoxes.map((b) => scaleBox(b, sx, sy));
  const measure = async (r: EncodeResult): Promise<MethodResult> => {
    const p = await measureRegionPsnr({
      ffmpeg: req.ffmpeg,
      referenceArgs: ["-i", req.input, ...(req.durationSec !== undefined ? ["-t", String(req.durationSec)] : [])],
      distortedArgs: req.codec === "h264" ? ["-f", "h264", "-i", r.output] : ["-i", r.output],
      width: rung.width, height: rung.height, fps: req.fps, boxes,
    });
    return { kbps: r.kbps, roiPsnrDb: p.roiPsnrDb, bgPsnrDb: p.bgPsnrDb, speedX: r.speedX, avgQp: r.avgQp, output: r.output, perFrame: p.perFrame };
  };
  const [b, c] = [await measure(baseline), await measure(context)];
  return {
    targetKbps: rung.targetKbps,
    width: rung.width,
    height: rung.height,
    baseline: b,
    context: c,
    allocation,
    speedX: (baseline.durationSec + context.durationSec) / (baseline.encodeSeconds + context.encodeSeconds),
  };
}

export async function encodeLadder(req: LadderRequest): Promise<RungResult[]> {
  const out: RungResult[] = [];
  for (const rung of req.rungs) out.push(await encodeRung(req, rung));
  return out;
}

