/**
 * Draws the region map in force over the camera preview, so the person sees which part of the
 * picture the AI asked for: blocks below full weight are shaded (darker = fewer bits), and the
 * full-weight blocks are outlined.
 */
import type { ImportanceMap } from "../../encoder/importance/map.ts";

/** Shade alpha per block: 0 for blocks kept sharp, up to `maxAlpha` for weight 0. Pure. */
export function shadeAlphas(map: ImportanceMap, maxAlpha = 0.55): Float32Array {
  const out = new Float32Array(map.weights.length);
  for (let i = 0; i < out.length; i++) out[i] = (1 - Math.min(1, Math.max(0, map.weights[i]!))) * maxAlpha;
  return out;
}

export function drawOverlay(canvas: HTMLCanvasElement, map: ImportanceMap | null): void {
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  // The overlay's pixels follow the map's picture so blocks line up; CSS stretches it over the video.
  if (map) {
    canvas.width = map.width;
    canvas.height = map.height;
  }
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!map) return;
  const alphas = shadeAlphas(map);
  const bs = map.blockSize;
  for (let r = 0; r < map.rows; r++) {
    for (let c = 0; c < map.cols; c++) {
      const a = alphas[r * map.cols + c]!;
      const x = c * bs;
      const y = r * bs;
      if (a > 0) {
        ctx.fillStyle = `rgba(0, 0, 0, ${a.toFixed(3)})`;
        ctx.fillRect(x, y, bs, bs);
      } else {
        ctx.strokeStyle = "rgba(255, 200, 0, 0.9)";
        ctx.lineWidth = Math.max(2, map.width / 400);
        ctx.strokeRect(x + 1, y + 1, bs - 2, bs - 2);
      }
    }
  }
}
