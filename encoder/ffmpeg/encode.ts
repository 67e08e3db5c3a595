/**
 * Encodes a video file at a target bitrate and size, with optional region control through the
 * encoder (ROI side data, see filtergraph.ts) and/or the pixel-domain pre-filter (raw frames pass
 * through Node, see ../prefilter). Output is a bare elementary stream, H.264 Annex B (.h264) or
 * VP8 in IVF (.ivf), so the achieved bitrate is the codec's payload alone and the RTP packetizers
 * can read it directly. Output is written to a temporary name and renamed when complete: a failed
 * encode leaves nothing behind.
 */
import { readFileSync, renameSync, rmSync } from "node:fs";
import { EncoderError } from "../errors.ts";
import type { ImportanceMap } from "../importance/map.ts";
import { roiScheduleGraph, type Codec, type RoiScheduleEntry } from "./filtergraph.ts";
import { decodeFrames, RawFrameSink } from "./frames.ts";
import { probeVideo } from "./probe.ts";
import { runFfmpeg } from "./run.ts";
import { readIvfFrames, splitH264AccessUnits } from "../rtp/elementary.ts";

export interface I420Like {
  readonly width: number;
  readonly height: number;
  readonly y: Uint8Array;
  readonly u: Uint8Array;
  readonly v: Uint8Array;
}

/** What the encoder needs of a pre-filter: the real one is `RoiPrefilter` in ../prefilter. */
export interface FramePrefilter {
  applyI420(frame: I420Like, map: ImportanceMap): I420Like;
}

export interface MapScheduleEntry {
  readonly atSec: number;
  readonly map: ImportanceMap;
}

export interface EncodeRequest {
  readonly ffmpeg: string;
  readonly input: string;
  /** Output path; `.h264` for H.264, `.ivf` for VP8. */
  readonly output: string;
  readonly codec: Codec;
  readonly width: number;
  readonly height: number;
  readonly bitrateKbps: number;
  /** Output frame rate; default: the input's. */
  readonly fps?: number;
  readonly durationSec?: number;
  /** Default 10 s: one keyframe per DeViBench clip. */
  readonly keyframeIntervalSec?: number;
  /** x264 preset (default veryfast) or VP8 cpu-used (default 8). */
  readonly speed?: string;
  /** Encoder region control, rectangles in output pixels. */
  readonly roi?: readonly RoiScheduleEntry[];
  /** Pixel-domain pre-filter with maps over time. */
  readonly prefilter?: { readonly filter: FramePrefilter; readonly schedule: readonly MapScheduleEntry[] };
  /** Scaler used from the input to the output size (the quality metrics use the same). */
  readonly scaleFlags?: string;
}

export interface EncodeResult {
  readonly output: string;
  /** Codec payload bytes (container headers excluded). */
  readonly payloadBytes: number;
  readonly frames: number;
  readonly durationSec: number;
  readonly kbps: number;
  /** Wall-clock seconds of the encode. */
  readonly encodeSeconds: number;
  /** Media seconds encoded per wall-clock second. */
  readonly speedX: number;
  /** Frame-count-weighted average QP as x264 reports it; null for VP8. */
  readonly avgQp: number | null;
}

export function validateEncodeRequest(req: EncodeRequest): void {
  if (!Number.isFinite(req.bitrateKbps) || req.bitrateKbps <= 0) {
    throw new EncoderError("INVALID_BITRATE", `bitrate must be a positive number of kbps, got ${req.bitrateKbps}`);
  }
  for (const [k, v] of [["width", req.width], ["height", req.height]] as const) {
    if (!Number.isInteger(v) || v < 16 || v > 8192 || v % 2 !== 0) {
      throw new EncoderError("INVALID_SIZE", `${k} must be an even integer from 16 to 8192, got ${v}`);
    }
  }
  if (req.fps !== undefined && !(req.fps > 0 && req.fps <= 240)) {
    throw new EncoderError("INVALID_OPTION", `fps must be in (0, 240], got ${req.fps}`);
  }
  if (req.durationSec !== undefined && !(req.durationSec > 0)) {
    throw new EncoderError("INVALID_OPTION", `durationSec must be > 0, got ${req.durationSec}`);
  }
  const ext = req.codec === "h264" ? ".h264" : ".ivf";
  if (!req.output.endsWith(ext)) {
    throw new EncoderError("INVALID_OPTION", `a ${req.codec} output must end in ${ext}, got ${req.output}`);
  }
  for (const e of req.prefilter?.schedule ?? []) {
    if (e.map.width !== req.width || e.map.height !== req.height) {
      // The pre-filter resamples other sizes, but a map for another picture is almost always a bug.
      const ratioW = e.map.width / req.width;
      const ratioH = e.map.height / req.height;
      if (Math.abs(ratioW - ratioH) > 0.02) {
        throw new EncoderError(
          "MAP_SIZE_MISMATCH",
          `pre-filter map at ${e.atSec}s is for ${e.map.width}x${e.map.height}, which has another shape than the ${req.width}x${req.height} output`,
        );
      }
    }
  }
}

function codecArgs(req: EncodeRequest, fps: number): string[] {
  const k = Math.round(req.bitrateKbps);
  const gop = String(Math.max(1, Math.round((req.keyframeIntervalSec ?? 10) * fps)));
  if (req.codec === "h264") {
    // ABR with a 2 s VBV, no B-frames (zerolatency), as a real-time sender would run; adaptive
    // quantisation stays on, without it x264 ignores ROI side data. One thread with two slices
    // rather than two sliced threads: the same stream as before on every run (two threads gave a
    // different stream each run, so benchmark figures moved between runs of one seed).
    return [
      "-c:v", "libx264", "-preset", req.speed ?? "veryfast", "-tune", "zerolatency",
      "-b:v", `${k}k`, "-maxrate", `${k}k`, "-bufsize", `${2 * k}k`, "-g", gop, "-threads", "1", "-x264-params", "slices=2",
      "-f", "h264",
    ];
  }
  return [
    "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", req.speed ?? "8",
    // One thread: libvpx with two made a different stream on each run.
    "-b:v", `${k}k`, "-maxrate", `${k}k`, "-bufsize", `${2 * k}k`, "-g", gop, "-threads", "1",
    "-f", "ivf",
  ];
}

/** Parses x264's closing lines "frame P:149 Avg QP:46.32 size: 813". */
export function parseX264AvgQp(stderr: string): number | null {
  let n = 0;
  let sum = 0;
  for (const m of stderr.matchAll(/frame [IPB]:(\d+)\s+Avg QP:\s*([\d.]+)/g)) {
    n += Number(m[1]);
    sum += Number(m[1]) * Number(m[2]);
  }
  return n > 0 ? sum / n : null;
}

export async function encodeVideo(req: EncodeRequest): Promise<EncodeResult> {
  validateEncodeRequest(req);
  const info = await probeVideo(req.ffmpeg, req.input);
  const fps = req.fps ?? info.fps ?? 30;
  const scale = `scale=${req.width}:${req.height}:flags=${req.scaleFlags ?? "bicubic"}`;
  const partial = `${req.output}.partial`;
  const t0 = performance.now();
  let stderr: string;
  try {
    if (!req.prefilter) {
      const pre = [`fps=${fps}`, scale, "format=yuv420p"].join(",");
      const graph = `[0:v:0]${pre}[pre];${roiScheduleGraph(req.roi ?? [], req.codec, "pre", "out")}`;
      const res = await runFfmpeg(req.ffmpeg, [
        "-y", "-loglevel", "info", "-i", req.input,
        ...(req.durationSec !== undefined ? ["-t", String(req.durationSec)] : []),
        "-filter_complex", graph, "-map", "[out]", "-an", "-sn",
        ...codecArgs(req, fps), partial,
      ]);
      stderr = res.stderr;
    } else {
      stderr = await encodeThroughPrefilter(req, fps, partial);
    }
  } catch (err) {
    rmSync(partial, { force: true });
    if (err instanceof EncoderError && err.code === "FFMPEG_FAILED" && /Invalid data|could not find codec|Error while decoding|moov atom/i.test(err.message)) {
      throw new EncoderError("INPUT_CORRUPT", `input video ${req.input} could not be decoded: ${err.message}`, { cause: err });
    }
    throw err;
  }
  const encodeSeconds = (performance.now() - t0) / 1000;
  const buf = readFileSync(partial);
  const units = req.codec === "h264" ? splitH264AccessUnits(buf) : readIvfFrames(buf).frames;
  const frames = units.length;
  const bytes = units.reduce((s, u) => s + u.length, 0);
  if (frames === 0) {
    rmSync(partial, { force: true });
    throw new EncoderError("INPUT_CORRUPT", `encoding ${req.input} produced no frames; the input may be corrupt or empty`);
  }
  renameSync(partial, req.output);
  const durationSec = frames / fps;
  return {
    output: req.output,
    payloadBytes: bytes,
    frames,
    durationSec,
    kbps: (bytes * 8) / durationSec / 1000,
    encodeSeconds,
    speedX: durationSec / encodeSeconds,
    avgQp: req.codec === "h264" ? parseX264AvgQp(stderr) : null,
  };
}

/** Pre-filter route: decode to raw I420 at the output size, filter each frame in Node, encode. */
async function encodeThroughPrefilter(req: EncodeRequest, fps: number, partial: string): Promise<string> {
  const { filter, schedule } = req.prefilter!;
  const sorted = [...schedule].sort((a, b) => a.atSec - b.atSec);
  const sink = new RawFrameSink(req.ffmpeg, [
    "-y", "-loglevel", "info", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", `${req.width}x${req.height}`,
    "-r", String(fps), "-i", "pipe:0",
    "-filter_complex", roiScheduleGraph(req.roi ?? [], req.codec, "0:v:0", "out"), "-map", "[out]",
    ...codecArgs(req, fps), partial,
  ]);
  const cw = Math.ceil(req.width / 2);
  const ch = Math.ceil(req.height / 2);
  const ySize = req.width * req.height;
  let index = 0;
  try {
    for await (const raw of decodeFrames({
      ffmpeg: req.ffmpeg,
      inputArgs: ["-i", req.input, ...(req.durationSec !== undefined ? ["-t", String(req.durationSec)] : [])],
      filters: [`fps=${fps}`],
      width: req.width,
      height: req.height,
      pixFmt: "yuv420p",
      scaleFlags: req.scaleFlags ?? "bicubic",
    })) {
      const t = index / fps;
      let entry = sorted[0];
      for (const e of sorted) if (e.atSec <= t + 1e-9) entry = e;
      let out: Uint8Array = raw;
      if (entry) {
        const frame: I420Like = {
          width: req.width,
          height: req.height,
          y: raw.subarray(0, ySize),
          u: raw.subarray(ySize, ySize + cw * ch),
          v: raw.subarray(ySize + cw * ch),
        };
        const f = filter.applyI420(frame, entry.map);
        out = new Uint8Array(raw.length);
        out.set(f.y, 0);
        out.set(f.u, ySize);
        out.set(f.v, ySize + cw * ch);
      }
      await sink.write(out);
      index++;
    }
  } catch (err) {
    sink.kill();
    await sink.finish().catch(() => {});
    throw err;
  }
  return sink.finish();
}
