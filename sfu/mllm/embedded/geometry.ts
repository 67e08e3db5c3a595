/**
 * Boxes and text lines shared by the detector, the recogniser and the answer logic. Pure: no
 * models here, so the answer logic and its tests load without onnxruntime.
 */
import type { NormalizedBox } from "../types.ts";
import type { BoxColours } from "./colour.ts";

/** An axis-aligned box in frame pixels (origin top-left; x+width and y+height are exclusive). */
export interface PixelBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A detected text region: where text is, not what it says. */
export interface TextBox {
  readonly box: PixelBox;
  /** Mean text probability inside the box (DB's box score, 0..1). */
  readonly score: number;
}

/** A read line of text. */
export interface TextLine {
  readonly text: string;
  readonly box: PixelBox;
  /** Mean probability of the decoded characters (0..1). */
  readonly confidence: number;
  /**
   * Probability of each UTF-16 unit of `text`, when the recogniser gave them. One unsure character
   * ("1BD" read from a blurred "18D") hides in a high mean; the answer logic checks these.
   */
  readonly charConfidence?: readonly number[];
  /** What the line is printed on, its letters, and around it (colour.ts), when the pixels were at hand. */
  readonly colours?: BoxColours;
}

export function area(b: PixelBox): number {
  return Math.max(0, b.width) * Math.max(0, b.height);
}

export function intersection(a: PixelBox, b: PixelBox): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

export function iou(a: PixelBox, b: PixelBox): number {
  const i = intersection(a, b);
  const u = area(a) + area(b) - i;
  return u > 0 ? i / u : 0;
}

export function union(boxes: readonly PixelBox[]): PixelBox {
  if (boxes.length === 0) return { x: 0, y: 0, width: 0, height: 0 };
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const b of boxes) {
    x0 = Math.min(x0, b.x);
    y0 = Math.min(y0, b.y);
    x1 = Math.max(x1, b.x + b.width);
    y1 = Math.max(y1, b.y + b.height);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Vertical overlap of two boxes as a fraction of the shorter one's height. */
export function verticalOverlap(a: PixelBox, b: PixelBox): number {
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  const shorter = Math.min(a.height, b.height);
  return shorter > 0 ? Math.max(0, h) / shorter : 0;
}

export function toNormalized(
  b: PixelBox,
  frameWidth: number,
  frameHeight: number,
  extra: { label?: string; score?: number } = {},
): NormalizedBox {
  const x = Math.max(0, Math.min(1, b.x / frameWidth));
  const y = Math.max(0, Math.min(1, b.y / frameHeight));
  const out: { x: number; y: number; width: number; height: number; label?: string; score?: number } = {
    x,
    y,
    width: Math.max(0, Math.min(1 - x, b.width / frameWidth)),
    height: Math.max(0, Math.min(1 - y, b.height / frameHeight)),
  };
  if (extra.label !== undefined) out.label = extra.label;
  if (extra.score !== undefined) out.score = extra.score;
  return out;
}

/**
 * Reading order: top to bottom, and left to right among boxes on the same row. Follows PaddleOCR's
 * `sorted_boxes` (sort by top edge, then swap neighbours whose tops are close), with "close" as half
 * the smaller height instead of PaddleOCR's fixed 10 px, so it works at every resolution.
 */
export function readingOrder<T extends { readonly box: PixelBox }>(items: readonly T[]): T[] {
  const out = [...items].sort((a, b) => a.box.y - b.box.y || a.box.x - b.box.x);
  for (let i = 0; i < out.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = out[j]!;
      const b = out[j + 1]!;
      const sameRow = Math.abs(a.box.y - b.box.y) < Math.min(a.box.height, b.box.height) / 2;
      if (sameRow && b.box.x < a.box.x) {
        out[j] = b;
        out[j + 1] = a;
      } else {
        break;
      }
    }
  }
  return out;
}
