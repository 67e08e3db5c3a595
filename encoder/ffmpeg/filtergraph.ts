/**
 * Builds FFmpeg filter graphs that attach region maps to frames (pure string building, tested
 * without ffmpeg).
 *
 * `addroi` is static for the life of a graph (no timeline, no commands), so a map that changes
 * during a stream is done with one branch per map: `split` copies each frame by reference, every
 * branch adds its own ROI side data, `streamselect` passes one branch, and `sendcmd` switches the
 * branch at the scheduled times. One encoder runs from start to end, so a map change costs no
 * keyframe.
 */
import { EncoderError } from "../errors.ts";
import type { RoiRect } from "../quality/rois.ts";

export type Codec = "h264" | "vp8";

/**
 * FFmpeg's qoffset is a fraction of the codec's quantiser range: libx264 multiplies it by 51
 * (8-bit), libvpx by 63 on VP8's 0..127 q-index scale. VP8's q-index moves about 2.5 steps for
 * one H.264 QP step over the useful range (both scales double the step size over roughly the
 * same span), an approximation documented in encoder/README.md.
 */
export function qoffsetFraction(qpOffset: number, codec: Codec): number {
  const v = codec === "h264" ? qpOffset / 51 : (qpOffset * 2.5) / 63;
  return Math.max(-1, Math.min(1, v));
}

export function addroiChain(rects: readonly RoiRect[], codec: Codec): string {
  if (rects.length === 0) return "null";
  return rects
    .map((r) => {
      for (const [k, v] of Object.entries(r)) {
        if (!Number.isFinite(v)) throw new EncoderError("INVALID_MAP", `ROI rectangle ${k} must be finite, got ${v}`);
      }
      return `addroi=x=${Math.round(r.x)}:y=${Math.round(r.y)}:w=${Math.round(r.width)}:h=${Math.round(r.height)}:qoffset=${qoffsetFraction(r.qpOffset, codec).toFixed(5)}`;
    })
    .join(",");
}

export interface RoiScheduleEntry {
  /** Media time (seconds from the first frame) from which these rectangles apply. */
  readonly atSec: number;
  readonly rects: readonly RoiRect[];
}

/**
 * Filter graph text that reads `[inLabel]` and writes `[outLabel]` with the scheduled ROI side data.
 */
export function roiScheduleGraph(schedule: readonly RoiScheduleEntry[], codec: Codec, inLabel: string, outLabel: string): string {
  if (schedule.length === 0) return `[${inLabel}]null[${outLabel}]`;
  const sorted = [...schedule].sort((a, b) => a.atSec - b.atSec);
  sorted.forEach((e, i) => {
    if (!(e.atSec >= 0) || !Number.isFinite(e.atSec)) {
      throw new EncoderError("INVALID_OPTION", `ROI schedule entry ${i} starts at ${e.atSec} s; times must be finite and >= 0`);
    }
  });
  if (sorted.length === 1) return `[${inLabel}]${addroiChain(sorted[0]!.rects, codec)}[${outLabel}]`;
  const k = sorted.length;
  // The first entry also covers frames before its time.
  const cmds = sorted.slice(1).map((e, i) => `${e.atSec.toFixed(3)} streamselect@roisel map ${i + 1}`).join(";");
  const branches = sorted.map((_, i) => `[roib${i}]`).join("");
  const parts = [`[${inLabel}]sendcmd=c='${cmds}',split=${k}${branches}`];
  sorted.forEach((e, i) => parts.push(`[roib${i}]${addroiChain(e.rects, codec)}[roia${i}]`));
  parts.push(`${sorted.map((_, i) => `[roia${i}]`).join("")}streamselect@roisel=inputs=${k}:map=0[${outLabel}]`);
  return parts.join(";");
}
