/**
 * Command lines of the live encoder's two ffmpeg processes (pure string building, tested without
 * ffmpeg):
 *
 * - the decoder reads the file in real time (`-re`, optionally looping) and writes raw I420 frames
 *   at the send size and frame rate to stdout;
 * - the encoder reads raw frames on stdin and writes one framed packet per frame to stdout, with
 *   `-flush_packets 1` so each frame leaves ffmpeg as soon as it is encoded: H.264 (libx264,
 *   `-tune zerolatency`: no B-frames, no lookahead, so a frame out for every frame in) in FLV or
 *   Annex B, or VP8 (libvpx realtime, no lag) in IVF. ABR with the VBV at the bitrate cap and one
 *   second of buffer. Region-control rectangles are baked into the filter graph (`addroi`).
 */
import { roiScheduleGraph, type Codec } from "../../encoder/ffmpeg/filtergraph.ts";
import type { RoiRect } from "../../encoder/quality/rois.ts";

export type H264Framing = "flv" | "annexb";

export interface DecoderArgsOptions {
  readonly input: string;
  readonly loop: boolean;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Default "bicubic" (the quality metrics use the same scaler). */
  readonly scaleFlags?: string;
}

export function decoderArgs(o: DecoderArgsOptions): string[] {
  return [
    "-hide_banner", "-nostdin", "-loglevel", "error",
    ...(o.loop ? ["-stream_loop", "-1"] : []),
    "-re", "-i", o.input, "-an", "-sn",
    "-vf", `fps=${o.fps},scale=${o.width}:${o.height}:flags=${o.scaleFlags ?? "bicubic"},format=yuv420p`,
    "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1",
  ];
}

/** Everything that decides the encoder's command line; a change of any of it restarts the encoder. */
export interface EncoderSettings {
  readonly codec: Codec;
  readonly width: number;
  readonly height: number;
  /** Frames per second the encoder gets (after frame dropping): its rate control counts on it. */
  readonly fps: number;
  readonly bitrateBps: number;
  readonly keyframeIntervalSec: number;
  /** x264 preset (default veryfast) or VP8 cpu-used (default 8). */
  readonly speed?: string;
  readonly h264Framing: H264Framing;
  /** Region-control rectangles in send-size pixels; empty = none. */
  readonly rects: readonly RoiRect[];
}

export function encoderArgs(s: EncoderSettings): string[] {
  const k = `${Math.max(1, Math.round(s.bitrateBps / 1000))}k`;
  const gop = String(Math.max(1, Math.round(s.keyframeIntervalSec * s.fps)));
  // Without -probesize 32 -analyzeduration 0, ffmpeg reads three raw frames before it starts to
  // encode: a restart's first frame came 200 ms late at 15 fps and 3 s late at the 1 fps of vision
  // on demand's keep-alive (measured, ffmpeg 5.1; with them the first frame is out ~0.1 s after
  // it goes in). -fflags nobuffer is not used: it drops the frames read while probing.
  const input = [
    "-hide_banner", "-loglevel", "error", "-probesize", "32", "-analyzeduration", "0",
    "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", `${s.width}x${s.height}`, "-r", String(s.fps), "-i", "pipe:0",
  ];
  const graph = ["-filter_complex", roiScheduleGraph(s.rects.length ? [{ atSec: 0, rects: s.rects }] : [], s.codec, "0:v:0", "out"), "-map", "[out]", "-an"];
  // A frame out for every frame in: no frame-rate conversion at the output. Intra-only frames
  // (sent on a lossy link without retransmission) are encoded on one thread: x264's zerolatency
  // threads by slices, one per thread, and every slice is packetized apart, so two threads made
  // each frame about one RTP packet longer, one more place to lose it whole (bench:network).
  const threads = gop === "1" ? "1" : "2";
  // The VBV starts as x264 has it (90% full). Starting it a quarter full, to stop a restart
  // spending up to 0.9 s of bits on its first frames, made those frames too coarse to read right
  // after a map's restart (bench:call: 15-16 of 20 answers right instead of 20, slower answers);
  // the pacer and the delay-based estimate absorb the burst instead.
  const common = ["-b:v", k, "-maxrate", k, "-bufsize", k, "-g", gop, "-threads", threads, "-fps_mode", "passthrough", "-flush_packets", "1"];
  if (s.codec === "h264") {
    // Constrained baseline, to match profile-level-id 42e01f in the SDP. Adaptive quantisation stays
    // on: without it x264 ignores ROI side data (encoder/README.md).
    return [
      ...input, ...graph,
      "-c:v", "libx264", "-preset", s.speed ?? "veryfast", "-tune", "zerolatency", "-profile:v", "baseline", ...common,
      "-f", s.h264Framing === "flv" ? "flv" : "h264", "pipe:1",
    ];
  }
  // Intra-only (a GOP of one frame): libvpx's rate control gives every keyframe a boost and sent
  // 399 kbps under a 200 kbps cap; capping an intra frame at 100% of the average frame holds it.
  const intraCap = gop === "1" ? ["-max-intra-rate", "100"] : [];
  return [
    ...input, ...graph,
    "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", s.speed ?? "8", "-lag-in-frames", "0", "-auto-alt-ref", "0", ...intraCap, ...common,
    "-f", "ivf", "pipe:1",
  ];
}
