/**
 * Frame sampling for the model: which frames of a clip it sees (frames per second, a maximum
 * count, a largest side), and decoding exactly those frames from an encoded stream.
 */
import { decodeFrames } from "../../encoder/ffmpeg/frames.ts";
import { fitWithin } from "../../sfu/mllm/jpeg.ts";
import type { VideoFrame } from "../../sfu/mllm/types.ts";

export interface SamplingOptions {
  /** Frames per second the model looks at (DeViBench: 1-2 fps in a call; 0.5 is the default here). */
  readonly fps: number;
  readonly maxFrames: number;
  /** Frames larger than this on their longer side are scaled down (keeps requests small). */
  readonly maxSide: number;
}

/**
 * Times (seconds) at the middle of each 1/fps interval of the clip; when there are more than
 * maxFrames, an evenly spread subset. Pure.
 */
export function sampleTimes(durationSec: number, options: Pick<SamplingOptions, "fps" | "maxFrames">): number[] {
  const step = 1 / options.fps;
  const all: number[] = [];
  for (let t = step / 2; t < durationSec; t += step) all.push(Math.round(t * 1000) / 1000);
  if (all.length === 0) all.push(durationSec / 2);
  if (all.length <= options.maxFrames) return all;
  return Array.from({ length: options.maxFrames }, (_, k) => all[Math.floor(((k + 0.5) * all.length) / options.maxFrames)]!);
}

export interface DecodeSampledRequest {
  readonly ffmpeg: string;
  /** ffmpeg input arguments of the encoded stream, e.g. ["-f", "h264", "-i", "x.h264"]. */
  readonly inputArgs: readonly string[];
  readonly width: number;
  readonly height: number;
  /** Frame rate of the stream (elementary streams carry none). */
  readonly streamFps: number;
  readonly times: readonly number[];
  readonly maxSide: number;
}

/** Decodes the frames nearest to the given times as RGB (by frame index, as raw streams have no clock). */
export async function decodeSampledFrames(req: DecodeSampledRequest): Promise<VideoFrame[]> {
  const indices = req.times.map((t) => Math.max(0, Math.round(t * req.streamFps)));
  const unique = [...new Set(indices)].sort((a, b) => a - b);
  const size = fitWithin(req.width, req.height, req.maxSide);
  const frames: VideoFrame[] = [];
  let k = 0;
  for await (const rgb of decodeFrames({
    ffmpeg: req.ffmpeg,
    inputArgs: req.inputArgs,
    filters: [`select='${unique.map((i) => `eq(n\\,${i})`).join("+")}'`],
    width: size.width,
    height: size.height,
    pixFmt: "rgb24",
  })) {
    const index = unique[k++]!;
    frames.push({ width: size.width, height: size.height, rgb, timestampMs: Math.round((index / req.streamFps) * 1000) });
  }
  return frames;
}
