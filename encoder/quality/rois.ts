/**
 * Turns a per-block QP offset map into a short list of rectangles, the form encoders take region
 * control in (FFmpeg's AVRegionOfInterest side data, which the `addroi` filter writes and libx264
 * and libvpx read). Rectangles are in picture pixels; the first rectangle that covers a
 * macroblock wins (libx264.c and libvpxenc.c both walk the list in reverse so that it does).
 *
 * Pure: no Node imports.
 */
import { EncoderError } from "../errors.ts";
import type { QpOffsetMap } from "./qp.ts";

export interface RoiRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** QP offset in H.264 units; negative = finer than the rest of the frame. */
  readonly qpOffset: number;
}

export interface RectOptions {
  /** Offsets are rounded to multiples of this step (default 1 QP), so fewer rectangles are needed. */
  readonly step?: number;
  /** At most this many distinct non-zero offsets; the ones nearest zero merge into their neighbours (VP8 has 3). */
  readonly maxLevels?: number;
  /** Offset that needs no rectangle (the encoder's default for uncovered blocks). */
  readonly baseline?: number;
}

/**
 * Rounds, limits the number of levels, then covers each level's blocks with maximal rectangles
 * (greedy: grow right, then down). Rectangles are listed most-negative offset first, which is
 * the order of importance libvpx expects when it must drop levels.
 */
export function offsetMapToRects(map: QpOffsetMap, options: RectOptions = {}): RoiRect[] {
  const { step = 1, maxLevels = Infinity, baseline = 0 } = options;
  if (!(step > 0)) throw new EncoderError("INVALID_OPTION", `rectangle step must be > 0, got ${step}`);
  const { cols, rows, blockSize, width, height } = map;
  const q = new Float64Array(cols * rows);
  for (let i = 0; i < q.length; i++) q[i] = Math.round(map.offsets[i]! / step) * step + 0;
  let levels = [...new Set(q)].filter((v) => v !== baseline).sort((a, b) => a - b);
  if (levels.length > maxLevels) {
    // Keep evenly spread levels over the range, and move every block to the nearest kept level.
    const lo = levels[0]!;
    const hi = levels[levels.length - 1]!;
    const kept = Array.from({ length: maxLevels }, (_, k) =>
      maxLevels === 1 ? lo : Math.round((lo + ((hi - lo) * k) / (maxLevels - 1)) / step) * step,
    );
    for (let i = 0; i < q.length; i++) {
      if (q[i] === baseline) continue;
      let best = kept[0]!;
      for (const k of kept) if (Math.abs(k - q[i]!) < Math.abs(best - q[i]!)) best = k;
      q[i] = best;
    }
    levels = [...new Set(kept)].filter((v) => v !== baseline).sort((a, b) => a - b);
  }
  const rects: RoiRect[] = [];
  const done = new Uint8Array(cols * rows);
  for (const level of levels) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        if (done[i] || q[i] !== level) continue;
        let w = 1;
        while (c + w < cols && !done[i + w] && q[i + w] === level) w++;
        let h = 1;
        grow: while (r + h < rows) {
          for (let k = 0; k < w; k++) {
            const j = (r + h) * cols + c + k;
            if (done[j] || q[j] !== level) break grow;
          }
          h++;
        }
        for (let dy = 0; dy < h; dy++) for (let dx = 0; dx < w; dx++) done[(r + dy) * cols + c + dx] = 1;
        const x = c * blockSize;
        const y = r * blockSize;
        rects.push({
          x,
          y,
          width: Math.min(width, (c + w) * blockSize) - x,
          height: Math.min(height, (r + h) * blockSize) - y,
          qpOffset: level,
        });
      }
    }
  }
  return rects;
}
