/**
 * Measures region PSNR of an encoded stream against its source, frame by frame, by decoding both
 * to luma at the same size with the same scaler.
 */
import { EncoderError } from "../errors.ts";
import { decodeFrames } from "../ffmpeg/frames.ts";
import { boxMask, psnrFromMse, regionError, type Box } from "./psnr.ts";

export interface RegionPsnrRequest {
  readonly ffmpeg: string;
  /** ffmpeg input arguments of the source, for example ["-i", "clip.mkv"]. */
  readonly referenceArgs: readonly string[];
  readonly distortedArgs: readonly string[];
  /** Picture size at which both are compared (the encode's size). */
  readonly width: number;
  readonly height: number;
  /** Frame rate filter applied to the reference so its frames line up with the encode's. */
  readonly fps?: number;
  /** Important boxes in comparison-size pixels. */
  readonly boxes: readonly Box[];
  readonly scaleFlags?: string;
}

export interface RegionPsnr {
  readonly roiPsnrDb: number;
  readonly bgPsnrDb: number;
  readonly frames: number;
  /** Per-frame PSNR inside and outside the boxes. */
  readonly perFrame: ReadonlyArray<{ readonly roiDb: number; readonly bgDb: number }>;
}

export async function measureRegionPsnr(req: RegionPsnrRequest): Promise<RegionPsnr> {
  const common = { ffmpeg: req.ffmpeg, width: req.width, height: req.height, pixFmt: "gray" as const, scaleFlags: req.scaleFlags ?? "bicubic" };
  const ref = decodeFrames({ ...common, inputArgs: req.referenceArgs, filters: req.fps ? [`fps=${req.fps}`] : [] });
  const dis = decodeFrames({ ...common, inputArgs: req.distortedArgs });
  const mask = boxMask(req.width, req.height, req.boxes);
  const perFrame: Array<{ roiDb: number; bgDb: number }> = [];
  let inSse = 0;
  let inCount = 0;
  let outSse = 0;
  let outCount = 0;
  try {
    for (;;) {
      const [a, b] = await Promise.all([ref.next(), dis.next()]);
      if (a.done || b.done) break;
      const e = regionError(a.value, b.value, mask);
      inSse += e.inSse;
      inCount += e.inCount;
      outSse += e.outSse;
      outCount += e.outCount;
      perFrame.push({
        roiDb: e.inCount ? psnrFromMse(e.inSse / e.inCount) : NaN,
        bgDb: e.outCount ? psnrFromMse(e.outSse / e.outCount) : NaN,
      });
    }
  } finally {
    await Promise.all([ref.return(undefined), dis.return(undefined)]);
  }
  if (perFrame.length === 0) throw new EncoderError("INPUT_CORRUPT", "no frames could be compared: one of the videos decoded to nothing");
  return {
    roiPsnrDb: inCount ? psnrFromMse(inSse / inCount) : NaN,
    bgPsnrDb: outCount ? psnrFromMse(outSse / outCount) : NaN,
    frames: perFrame.length,
    perFrame,
  };
}
