/**
 * A region map to the encoder's region-control rectangles (the encoder-ROI route): the map on the
 * 16x16 macroblock grid at the send size, Artic's offset curve, offsets made relative to the
 * background (the region negative, the background 0: with +25 on the background x264 undershoots
 * its target, see encoder/README.md "Sign of the offsets"), then covered by rectangles. VP8 gets at
 * most 3 levels (its segment map).
 *
 * The live encoder cannot calibrate `allocateForBudget` as the ladder does (x264 reports its
 * average QP only when it ends), so it uses the fixed curve; the bitrate cap still holds, because
 * rate control adds the offsets to its own frame QP.
 *
 * Pure: no Node imports.
 */
import type { Codec } from "../../encoder/ffmpeg/filtergraph.ts";
import { resampleMap, type ImportanceMap } from "../../encoder/importance/map.ts";
import { qpOffsetMap, relativeToBackground } from "../../encoder/quality/qp.ts";
import { offsetMapToRects, type RoiRect } from "../../encoder/quality/rois.ts";

export function roiRectsForMap(map: ImportanceMap, width: number, height: number, codec: Codec): RoiRect[] {
  const atSendSize = resampleMap(map, width, height, 16);
  return offsetMapToRects(relativeToBackground(qpOffsetMap(atSendSize)), { maxLevels: codec === "vp8" ? 3 : Infinity });
}
