/**
 * Per-block coding complexity estimated from luma frames (pure, no Node imports): mean absolute
 * spatial gradient (what intra coding pays for) plus mean absolute frame difference (what inter
 * coding pays for, roughly, before motion compensation). A floor of 1 keeps flat blocks from
 * counting as free. The budget allocator only needs relative values.
 */
import { EncoderError } from "../errors.ts";
import { gridSize } from "../importance/map.ts";

export function blockComplexity(frames: readonly Uint8Array[], width: number, height: number, blockSize: number): Float32Array {
  const { cols, rows } = gridSize(width, height, blockSize);
  const sum = new Float64Array(cols * rows);
  const count = new Float64Array(cols * rows);
  if (frames.length === 0) throw new EncoderError("INVALID_OPTION", "blockComplexity needs at least one frame");
  frames.forEach((f, k) => {
    if (f.length < width * height) {
      throw new EncoderError("INVALID_SIZE", `frame ${k} has ${f.length} luma bytes, a ${width}x${height} picture needs ${width * height}`);
    }
    const prev = k > 0 ? frames[k - 1]! : null;
    for (let y = 0; y < height; y++) {
      const rowBlock = Math.floor(y / blockSize) * cols;
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const v = f[i]!;
        let g = (x + 1 < width ? Math.abs(f[i + 1]! - v) : 0) + (y + 1 < height ? Math.abs(f[i + width]! - v) : 0);
        if (prev) g += Math.abs(v - prev[i]!);
        const b = rowBlock + Math.floor(x / blockSize);
        sum[b] = sum[b]! + g;
        count[b] = count[b]! + 1;
      }
    }
  });
  const out = new Float32Array(cols * rows);
  for (let b = 0; b < out.length; b++) out[b] = 1 + sum[b]! / Math.max(1, count[b]!);
  return out;
}
