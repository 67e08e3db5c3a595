/** The live encoder's types (after mediasoup's XTypes.ts) and its options: one typed place, documented defaults, checked once. */
import type { Codec } from "../../encoder/ffmpeg/filtergraph.ts";
import type { ImportanceMap } from "../../encoder/importance/map.ts";
import type { ContextRoute } from "../../encoder/ladder/ladder.ts";
import { RoiPrefilter, type I420Frame } from "../../encoder/prefilter/index.ts";
import type { EncoderSettings, H264Framing } from "./encoder-args.ts";
import { PublisherError } from "./errors.ts";

/** What the live encoder needs of a pre-filter (`RoiPrefilter` in encoder/prefilter is the real one). */
export interface LivePrefilter {
  applyI420(frame: I420Frame, map: ImportanceMap, out?: I420Frame): I420Frame;
}

export interface LiveEncoderOptions {
  /** Path of the ffmpeg binary (resolve it with encoder/ffmpeg/resolve.ts). */
  readonly ffmpeg: string;
  /** Video file to send. */
  readonly input: string;
  /** Start again at the end of the file (`-stream_loop -1`). Default false: the stream ends. */
  readonly loop?: boolean;
  /** Default "h264". */
  readonly codec?: Codec;
  /** Send size in pixels (even). */
  readonly width: number;
  readonly height: number;
  /** Frame rate decoded from the file, before any frame-rate target. Default 30. */
  readonly fps?: number;
  /** Configured bitrate; rate targets can lower it, never raise it above this. */
  readonly bitrateBps: number;
  /** Default 10 s; a restart or keyframe request starts a new interval. `setIntraOnly(true)` makes every frame a keyframe. */
  readonly keyframeIntervalSec?: number;
  /** How region maps are applied. Default "encoder-roi". */
  readonly route?: ContextRoute;
  /** Needed by the "prefilter" and "both" routes. */
  readonly prefilter?: LivePrefilter;
  /** x264 preset (default veryfast) or VP8 cpu-used (default 8). */
  readonly speed?: string;
  /** How H.264 leaves ffmpeg: "flv" (default, no added latency) or "annexb" (one frame of latency). */
  readonly h264Framing?: H264Framing;
  /** At most one encoder restart per this many ms. Default 500. */
  readonly minRestartIntervalMs?: number;
  /** A restart waits this long for more changes to apply with it. Default 20 ms. */
  readonly coalesceMs?: number;
  /** Capture clock in ms. Default `performance.timeOrigin + performance.now()` (monotonic, epoch-based). */
  readonly now?: () => number;
  /**
   * Asked for each captured frame that passed the frame-rate target: false and the frame is not
   * encoded (the sender's congestion window is full; the encoder goes on from its last frame, no
   * restart). Default: every frame goes.
   */
  readonly admitFrame?: () => boolean;
}

export type ResolvedLiveOptions = Required<Omit<LiveEncoderOptions, "prefilter" | "speed" | "admitFrame">> &
  Pick<LiveEncoderOptions, "prefilter" | "speed" | "admitFrame">;

export function resolveLiveOptions(o: LiveEncoderOptions): ResolvedLiveOptions {
  const bad = (field: string, message: string) => new PublisherError("INVALID_OPTION", `LiveEncoder option ${field}: ${message}`);
  for (const [k, v] of [["width", o.width], ["height", o.height]] as const) {
    if (!Number.isInteger(v) || v < 16 || v > 8192 || v % 2 !== 0) throw bad(k, `must be an even integer from 16 to 8192, got ${v}`);
  }
  const fps = o.fps ?? 30;
  if (!(fps > 0 && fps <= 240)) throw bad("fps", `must be in (0, 240], got ${fps}`);
  if (!(o.bitrateBps >= 1000 && Number.isFinite(o.bitrateBps))) throw bad("bitrateBps", `must be at least 1000, got ${o.bitrateBps}`);
  const keyframeIntervalSec = o.keyframeIntervalSec ?? 10;
  if (!(keyframeIntervalSec > 0)) throw bad("keyframeIntervalSec", `must be > 0, got ${keyframeIntervalSec}`);
  const codec = o.codec ?? "h264";
  if (codec !== "h264" && codec !== "vp8") throw bad("codec", `must be "h264" or "vp8", got ${String(codec)}`);
  // libvpx's VP8 rate control does not move bits between ROI segments: a finer region costs
  // bits on top of the cap (a 240 kbps cap sent 750 kbps with a map). VP8 therefore applies maps
  // with the pre-filter unless told otherwise (encoder/README.md, rate-control modes).
  const route = o.route ?? (codec === "vp8" ? "prefilter" : "encoder-roi");
  if (!["encoder-roi", "prefilter", "both"].includes(route)) throw bad("route", `must be encoder-roi, prefilter or both, got ${String(route)}`);
  if (route !== "encoder-roi" && !o.prefilter && o.route !== undefined) throw bad("prefilter", `route "${route}" needs a pre-filter (RoiPrefilter)`);
  const minRestartIntervalMs = o.minRestartIntervalMs ?? 500;
  if (!(minRestartIntervalMs >= 0)) throw bad("minRestartIntervalMs", `must be >= 0, got ${minRestartIntervalMs}`);
  if (o.input.length === 0) throw bad("input", "must name a video file");
  return {
    ffmpeg: o.ffmpeg,
    input: o.input,
    loop: o.loop ?? false,
    codec,
    width: o.width,
    height: o.height,
    fps,
    bitrateBps: o.bitrateBps,
    keyframeIntervalSec,
    route,
    prefilter: o.prefilter ?? (route !== "encoder-roi" ? new RoiPrefilter({ mode: "blur" }) : undefined),
    speed: o.speed,
    h264Framing: o.h264Framing ?? "flv",
    minRestartIntervalMs,
    coalesceMs: o.coalesceMs ?? 20,
    now: o.now ?? (() => performance.timeOrigin + performance.now()),
    admitFrame: o.admitFrame,
  };
}

export interface EncodedFrame {
  /** H.264 access unit (Annex B) or VP8 frame. */
  readonly data: Uint8Array;
  /** When the input frame left the decoder, on the encoder's clock (ms). */
  readonly captureMs: number;
  readonly keyframe: boolean;
  /** Index of the input frame in the decoded stream (counts on across loops). */
  readonly sourceIndex: number;
  /** Which encoder process made it (1 for the first, +1 per restart). */
  readonly generation: number;
}

export type RestartReason = "start" | "region-map" | "rate" | "keyframe" | "recover" | "intra-only";

export interface RateSettings {
  /** Cap on the encoder's bitrate (bits per second); null = the configured bitrate. */
  readonly maxBitrateBps: number | null;
  /** Frame-rate target; null = the decoded frame rate. */
  readonly maxFramerate: number | null;
}

export interface LiveEncoderCounters {
  /** Raw frames decoded from the file. */
  framesIn: number;
  /** Dropped to meet the frame-rate target. */
  framesDroppedRate: number;
  /** Dropped because the encoder was still busy. */
  framesDroppedBusy: number;
  /** Dropped because the sender's congestion window was full (`admitFrame`). */
  framesDroppedCongestion: number;
  /** Encoded frames emitted, and their payload bytes. */
  framesSent: number;
  bytesSent: number;
  keyframesSent: number;
  /** Encoder restarts after the first start. */
  restarts: number;
  /** Encoder processes that ended without being asked to. */
  encoderFailures: number;
}

export interface LiveEncoderEvents {
  [name: string]: unknown;
  frame: EncodedFrame;
  restart: { readonly generation: number; readonly reasons: readonly RestartReason[]; readonly settings: EncoderSettings };
  /** Something went wrong; `fatal` errors close the encoder. */
  error: { readonly error: PublisherError; readonly fatal: boolean };
  /** The file ended (no loop) and every frame was emitted. */
  end: undefined;
}
