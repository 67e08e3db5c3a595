/**
 * The sender's encoder for the network benchmark, run offline with ffmpeg, and the receiver's
 * decoder for what the jitter buffer let through.
 *
 * Encoder settings follow the live publisher (sfu/publisher/encoder-args.ts): libx264 veryfast,
 * `-tune zerolatency` (no B-frames, no lookahead), constrained baseline, ABR with the VBV at the
 * bitrate and one second of buffer. Two modes:
 *  - "gop": keyframes only at the start and where a PLI asked for one (`-g` longer than the clip);
 *  - "intra": every frame a keyframe (`-g 1`), what the publisher does on a lossy link without
 *    retransmission (sfu/publisher/loss-resilience.ts).
 *
 * A PLI cannot be answered from one pre-encoded stream. Here the encoder is restarted at the
 * requested frame: a segment from that frame to the end is encoded (starting with a keyframe) and
 * the sender continues from it; segments are cached on disk by start frame. Rate control starts
 * afresh in the segment, as in an encoder restart (what the live publisher does on a PLI; libwebrtc
 * instead forces a keyframe in the running encoder, whose rate control carries on).
 *
 * A rate change (the rate loop of a call, rate-loop.ts) restarts the encoder the same way: a
 * segment from that frame at the new bitrate, cached by start frame and bitrate, as the live
 * publisher restarts ffmpeg when its cap moves.
 *
 * Region maps (the context-aware method): region-control rectangles planned by
 * encoder/ladder `planContextEncode` go into the filter graph as x264 ROI side data (`addroi`,
 * encoder/ffmpeg/filtergraph.ts), as encoder/ffmpeg `encodeVideo` and the live publisher do. A
 * PLI segment carries the same rectangles (the schedule shifted to its start), so a restarted
 * encoder keeps the map, as the live publisher's restart does.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeFrames } from "../../encoder/ffmpeg/frames.ts";
import { parseX264AvgQp } from "../../encoder/ffmpeg/encode.ts";
import { roiScheduleGraph, type RoiScheduleEntry } from "../../encoder/ffmpeg/filtergraph.ts";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import { isH264Keyframe, type RtpVideoCodec } from "../../encoder/rtp/index.ts";
import { readIvfFrames, splitH264AccessUnits } from "../../encoder/rtp/elementary.ts";
import { ivfFileHeader, ivfFrameHeader } from "../../sfu/media/ivf.ts";
import type { VideoFrame } from "../../sfu/mllm/types.ts";
import type { EncodedFrame, FrameSource } from "./simulate.ts";

/** Part of the encode cache's key: bump it whenever the ffmpeg arguments below change. */
const ENCODER_ARGS_VERSION = 3;

export interface SenderSettings {
  readonly codec: RtpVideoCodec;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly bitrateBps: number;
  readonly mode: "gop" | "intra";
  /** x264 preset (default veryfast) or VP8 cpu-used (default 8), the publisher's defaults. */
  readonly preset?: string;
  /** Region-control rectangles over media time, in output pixels (none: the baseline method). */
  readonly roi?: readonly RoiScheduleEntry[];
}

/** A segment's totals, for calibrating the context-aware plan on the baseline encode. */
export interface SegmentStats {
  readonly payloadBytes: number;
  readonly frames: number;
  /** x264's frame-weighted average QP; null for VP8. */
  readonly avgQp: number | null;
}

/**
 * The schedule as seen by a segment that starts `startSec` into the clip: the entry in force at
 * the start moves to 0, later ones move earlier, earlier ones go.
 */
export function shiftRoiSchedule(roi: readonly RoiScheduleEntry[], startSec: number): RoiScheduleEntry[] {
  const sorted = [...roi].sort((a, b) => a.atSec - b.atSec);
  const inForce = sorted.filter((e) => e.atSec <= startSec + 1e-9).pop();
  const later = sorted.filter((e) => e.atSec > startSec + 1e-9).map((e) => ({ atSec: e.atSec - startSec, rects: e.rects }));
  return inForce ? [{ atSec: 0, rects: inForce.rects }, ...later] : later.length > 0 ? [{ atSec: 0, rects: [] }, ...later] : [];
}

export interface ClipEncoderOptions {
  readonly ffmpeg: string;
  /** The source clip (any size and rate; scaled and resampled here). */
  readonly input: string;
  readonly durationSec: number;
  readonly settings: SenderSettings;
  /** Where encoded segments are cached. */
  readonly cacheDir: string;
}

export class ClipEncoder implements FrameSource {
  readonly codec: RtpVideoCodec;
  readonly fps: number;
  frameCount = 0;
  /** Segments encoded or read from the cache, by start frame and bitrate. */
  private readonly segments = new Map<string, EncodedFrame[]>();
  /** Totals of the first segment (the whole clip as encoded without any PLI). */
  stats: SegmentStats = { payloadBytes: 0, frames: 0, avgQp: null };
  private current = 0;
  private currentBps: number;
  /** Frames of the current segment the sender skipped (never given to the encoder), ascending. */
  private skipped: number[] = [];
  /** Frames skipped this run (`skip`). */
  skips = 0;
  /** Segments this run asked for beyond the first (one per honoured keyframe request or rate change). */
  restarts = 0;

  private constructor(private readonly o: ClipEncoderOptions) {
    this.fps = o.settings.fps;
    this.codec = o.settings.codec;
    this.currentBps = o.settings.bitrateBps;
  }

  static async open(o: ClipEncoderOptions): Promise<ClipEncoder> {
    const e = new ClipEncoder(o);
    const first = await e.segment(0);
    e.frameCount = first.length;
    e.stats = { ...e.stats, payloadBytes: first.reduce((n, f) => n + f.data.length, 0), frames: first.length };
    if (e.frameCount === 0) throw new Error(`encoding ${o.input} gave no frames`);
    return e;
  }

  async frame(index: number, keyframeRequested: boolean, bitrateBps?: number): Promise<EncodedFrame> {
    if (index < 0 || index >= this.frameCount) throw new RangeError(`frame index ${index} outside 0..${this.frameCount - 1}`);
    if (bitrateBps !== undefined && !(bitrateBps > 0)) throw new RangeError(`bitrateBps must be > 0, got ${bitrateBps}`);
    const newRate = bitrateBps !== undefined && Math.round(bitrateBps / 1000) !== Math.round(this.currentBps / 1000);
    if (this.skipped.includes(index)) throw new RangeError(`frame ${index} was skipped`);
    if (newRate) {
      // The encoder restarts at the new rate from this frame (at the first frame: starts at it).
      this.currentBps = bitrateBps;
      if (index > 0) this.restarts++;
      this.current = index;
      this.skipped = [];
    } else if (keyframeRequested && this.o.settings.mode === "gop" && index > 0) {
      // Intra-only: every frame already is a keyframe; a request changes nothing.
      this.current = index;
      this.restarts++;
      this.skipped = [];
    }
    const seg = await this.segment(this.current, this.currentBps, this.skipped);
    const f = seg[index - this.current - this.skipped.filter((k) => k < index).length];
    if (!f) throw new Error(`segment from frame ${this.current} of ${this.o.input} has no frame ${index}`);
    return f;
  }

  /**
   * The sender drops frame `index` before the encoder (a frame dropper: the congestion window was
   * full when it was captured). The encoder goes on from the frame before it, as a live encoder
   * that is not handed a frame does, with no restart and no keyframe: here, the current segment is
   * encoded again without that frame (ffmpeg's select filter). With one thread and no lookahead
   * x264 and libvpx encode every frame from the frames before it only, so the frames already sent
   * are the same in the new segment; that is checked, not assumed. Intra-only frames stand alone:
   * the segment stays.
   */
  async skip(index: number): Promise<void> {
    if (index < this.current || index >= this.frameCount) throw new RangeError(`cannot skip frame ${index}: the segment runs from ${this.current} to ${this.frameCount - 1}`);
    if (this.skipped.includes(index)) return;
    this.skips++;
    if (this.o.settings.mode === "intra") return;
    const before = await this.segment(this.current, this.currentBps, this.skipped);
    const next = [...this.skipped, index].sort((a, b) => a - b);
    const after = await this.segment(this.current, this.currentBps, next);
    const sent = index - this.current - this.skipped.filter((k) => k < index).length;
    for (let k = 0; k < sent; k++) {
      if (!sameBytes(before[k]!.data, after[k]!.data)) throw new Error(`skipping frame ${index} of ${this.o.input} changed frame ${k} of the segment from ${this.current}: the encoder is not deterministic`);
    }
    this.skipped = next;
  }

  private async segment(start: number, bitrateBps = this.o.settings.bitrateBps, skipped: readonly number[] = []): Promise<EncodedFrame[]> {
    const key = `${start}@${Math.round(bitrateBps / 1000)}${skipped.length ? `-skip${skipped.join(".")}` : ""}`;
    const have = this.segments.get(key);
    if (have) return have;
    // A rate from the rate loop is encoded at whole kbps (ffmpeg's -b:v below), and cached so.
    const s = bitrateBps === this.o.settings.bitrateBps ? this.o.settings : { ...this.o.settings, bitrateBps: Math.round(bitrateBps / 1000) * 1000 };
    const tag = createHash("sha1").update(JSON.stringify({ input: this.o.input, s, d: this.o.durationSec, args: ENCODER_ARGS_VERSION })).digest("hex").slice(0, 10);
    mkdirSync(this.o.cacheDir, { recursive: true });
    const ext = s.codec === "h264" ? "h264" : "ivf";
    // Skipped frames in the name: a hash keeps it short however many there are.
    const skipTag = skipped.length ? `-skip${createHash("sha1").update(skipped.join(",")).digest("hex").slice(0, 10)}` : "";
    const path = join(this.o.cacheDir, `${tag}-from${start}${skipTag}.${ext}`);
    // x264's average QP, kept beside the stream (the context plan calibrates on it).
    const meta = `${path}.json`;
    if (!existsSync(path) || !existsSync(meta)) {
      const k = `${Math.round(s.bitrateBps / 1000)}k`;
      // Longer than any clip: no keyframe but the first (x264 may still place one at a scene cut).
      const gop = s.mode === "intra" ? "1" : "100000";
      const pre = `[0:v:0]fps=${s.fps},scale=${s.width}:${s.height}:flags=bicubic,format=yuv420p,trim=start_frame=${start},setpts=PTS-STARTPTS${
        skipped.length ? `,select='not(${skipped.map((k) => `eq(n\\,${k - start})`).join("+")})'` : ""}[pre]`;
      const graph = `${pre};${roiScheduleGraph(shiftRoiSchedule(s.roi ?? [], start / s.fps), s.codec, "pre", "out")}`;
      const partial = `${path}.partial`;
      try {
        // One thread always: x264's sliced threads (zerolatency) and libvpx's threads made a
        // different stream on each run (measured: three runs, three checksums), so the same seed
        // gave different packets and figures. The publisher's two slices per inter frame are kept
        // with x264's `slices` (deterministic); intra-only frames have one slice, as the publisher
        // (encoder-args.ts).
        const rate = ["-b:v", k, "-maxrate", k, "-bufsize", k, "-g", gop, "-threads", "1",
          ...(s.codec === "h264" && s.mode !== "intra" ? ["-x264-params", "slices=2"] : [])];
        // VP8 as the publisher runs it (encoder-args.ts): realtime, no lag; intra-only frames capped
        // at 100% of the average frame, else libvpx's keyframe boost overshoots the rate.
        const codec = s.codec === "h264"
          ? ["-c:v", "libx264", "-preset", s.preset ?? "veryfast", "-tune", "zerolatency", "-profile:v", "baseline", ...rate, "-f", "h264"]
          : ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", s.preset ?? "8", "-lag-in-frames", "0", "-auto-alt-ref", "0",
            ...(s.mode === "intra" ? ["-max-intra-rate", "100"] : []), ...rate, "-f", "ivf"];
        const res = await runFfmpeg(this.o.ffmpeg, [
          "-y", "-loglevel", "info", "-i", this.o.input, "-t", String(this.o.durationSec),
          // Passthrough: the frames after a skipped one keep their times, none is duplicated into the gap.
          "-filter_complex", graph, "-map", "[out]", "-an", "-sn", ...(skipped.length ? ["-fps_mode", "passthrough"] : []), ...codec, partial,
        ]);
        writeFileSync(meta, JSON.stringify({ avgQp: s.codec === "h264" ? parseX264AvgQp(res.stderr) : null }));
        renameSync(partial, path);
      } finally {
        rmSync(partial, { force: true });
      }
    }
    const buf = readFileSync(path);
    const units = s.codec === "h264"
      ? splitH264AccessUnits(buf).map((data) => ({ data, keyframe: isH264Keyframe(data) }))
      // RFC 6386 §9.1: bit 0 of the frame tag is 0 for a key frame.
      : readIvfFrames(buf).frames.map((data) => ({ data, keyframe: (data[0]! & 1) === 0 }));
    this.segments.set(key, units);
    if (start === 0 && bitrateBps === this.o.settings.bitrateBps) this.stats = { ...this.stats, avgQp: (JSON.parse(readFileSync(meta, "utf8")) as { avgQp: number | null }).avgQp };
    return units;
  }
}

/**
 * Decodes the frames the jitter buffer released decodable (in release order, one Annex B stream)
 * with ffmpeg and returns the ones at `wanted` positions of that list as RGB frames.
 */
export async function decodeReleased(
  ffmpeg: string, codec: RtpVideoCodec, units: readonly Uint8Array[], wanted: readonly number[], size: { width: number; height: number },
  timestampsMs: readonly number[], tmpDir: string,
): Promise<Map<number, VideoFrame>> {
  const out = new Map<number, VideoFrame>();
  const unique = [...new Set(wanted)].sort((a, b) => a - b);
  if (unique.length === 0 || units.length === 0) return out;
  mkdirSync(tmpDir, { recursive: true });
  // H.264: one Annex B stream; VP8: IVF framing (sfu/media/ivf.ts), one pts per frame.
  const parts: Uint8Array[] = codec === "h264" ? [...units] : [ivfFileHeader("vp8", size.width, size.height)];
  if (codec === "vp8") units.forEach((u, i) => parts.push(ivfFrameHeader(u.length, i), u));
  const stream = new Uint8Array(parts.reduce((n, u) => n + u.length, 0));
  let off = 0;
  for (const u of parts) {
    stream.set(u, off);
    off += u.length;
  }
  const path = join(tmpDir, `released-${process.pid}.${codec === "h264" ? "h264" : "ivf"}`);
  writeFileSync(path, stream);
  try {
    let k = 0;
    for await (const rgb of decodeFrames({
      ffmpeg, inputArgs: codec === "h264" ? ["-f", "h264", "-i", path] : ["-f", "ivf", "-i", path], width: size.width, height: size.height, pixFmt: "rgb24",
      filters: [`select='${unique.map((i) => `eq(n\\,${i})`).join("+")}'`],
    })) {
      const index = unique[k++]!;
      out.set(index, { width: size.width, height: size.height, rgb, timestampMs: timestampsMs[index] ?? 0 });
    }
  } finally {
    rmSync(path, { force: true });
  }
  if (out.size !== unique.length) {
    throw new Error(`decoding the released stream gave ${out.size} of the ${unique.length} wanted frames: ffmpeg skipped frames it could not decode`);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
