/**
 * Grounding through a chat model: the prompt that asks for boxes as JSON, and a forgiving parser
 * for what models actually reply (code fences, prose around the JSON, Qwen-VL's 0..1000 scale and
 * `<box>(x0,y0),(x1,y1)</box>` tags).
 */
import type { NormalizedBox } from "../types.ts";

export function groundingPrompt(question: string): string {
  return [
    "Find the regions of the image that someone would need to look at to answer this question:",
    question,
    "",
    'Reply with JSON only, in this form: {"boxes":[[x0,y0,x1,y1],...]}',
    "where (x0,y0) is the top-left and (x1,y1) the bottom-right corner of each region, as fractions of the image width and height from 0 to 1.",
    'Give the most relevant region first. If no region is relevant, reply {"boxes":[]}.',
  ].join("\n");
}

interface RawBox {
  readonly c: readonly [number, number, number, number];
  readonly label?: string;
}

const LIST_KEYS = ["boxes", "bboxes", "regions", "objects"];
const BOX_KEYS = ["bbox_2d", "bbox", "box", "coordinates", "box_2d"];

function quad(v: unknown): RawBox["c"] | null {
  if (Array.isArray(v) && v.length === 4 && v.every((n) => typeof n === "number" && Number.isFinite(n))) {
    return [v[0], v[1], v[2], v[3]] as const;
  }
  return null;
}

function boxFromObject(o: Record<string, unknown>): RawBox | null {
  const label = typeof o.label === "string" ? o.label : undefined;
  for (const key of BOX_KEYS) {
    const c = quad(o[key]);
    if (c) return label !== undefined ? { c, label } : { c };
  }
  // Corner keys, numbered from 0 or from 1 depending on the model.
  const c = quad("x0" in o ? [o.x0, o.y0, o.x1, o.y1] : [o.x1, o.y1, o.x2, o.y2]);
  if (c) return label !== undefined ? { c, label } : { c };
  return null;
}

/** The boxes in a parsed JSON value, or null when it does not look like an answer with boxes. */
function boxesFromJson(v: unknown): RawBox[] | null {
  const single = quad(v);
  if (single) return [{ c: single }];
  if (Array.isArray(v)) {
    const out: RawBox[] = [];
    for (const item of v) {
      const c = quad(item);
      if (c) out.push({ c });
      else if (typeof item === "object" && item !== null) {
        const b = boxFromObject(item as Record<string, unknown>);
        if (b) out.push(b);
      }
    }
    return out.length > 0 || v.length === 0 ? out : null;
  }
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    for (const key of LIST_KEYS) if (key in o) return boxesFromJson(o[key]) ?? [];
    const b = boxFromObject(o);
    return b ? [b] : null;
  }
  return null;
}

/** The end (exclusive) of the JSON object or array opening at `start`, or -1 when it never closes. */
function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** JSON values found in the text: code-fenced blocks first, then any object or array in the prose. */
function jsonCandidates(text: string): unknown[] {
  const sources: string[] = [];
  for (const m of text.matchAll(/```[a-zA-Z]*\s*\n?([\s\S]*?)```/g)) sources.push(m[1]!.trim());
  sources.push(text);
  const values: unknown[] = [];
  for (const source of sources) {
    for (let i = 0; i < source.length; i++) {
      if (source[i] !== "{" && source[i] !== "[") continue;
      const end = balancedEnd(source, i);
      if (end < 0) continue;
      try {
        values.push(JSON.parse(source.slice(i, end)));
        i = end - 1; // the whole value is taken; do not parse its insides again
      } catch {
        // Not JSON from here (prose in brackets, say): try the next opening.
      }
    }
  }
  return values;
}

/** Qwen-VL's tag form: <box>(x0,y0),(x1,y1)</box>, always on the 0..1000 scale. */
function qwenTags(text: string): RawBox[] {
  const out: RawBox[] = [];
  const re = /<box>\s*\(\s*([\d.]+)\s*,\s*([\d.]+)\s*\)\s*,\s*\(\s*([\d.]+)\s*,\s*([\d.]+)\s*\)\s*<\/box>/g;
  for (const m of text.matchAll(re)) out.push({ c: [Number(m[1]) / 1000, Number(m[2]) / 1000, Number(m[3]) / 1000, Number(m[4]) / 1000] });
  return out;
}

const clamp01 = (v: number): number => Math.min(1, Math.max(0, v));

/**
 * The boxes in a model's reply, normalised to 0..1. Coordinates are taken as 0..1000 (the Qwen-VL
 * convention) when any of them is above 1. Boxes are clamped to the picture, corners put in order,
 * and boxes with no area dropped. A reply without any boxes gives [].
 */
export function parseBoxes(reply: string): NormalizedBox[] {
  let raw: RawBox[] | null = null;
  for (const value of jsonCandidates(reply)) {
    raw = boxesFromJson(value);
    if (raw) break;
  }
  if (!raw || raw.length === 0) raw = qwenTags(reply);
  const scale = raw.some((b) => b.c.some((v) => v > 1)) ? 1000 : 1;
  const out: NormalizedBox[] = [];
  for (const b of raw) {
    const [a, c, d, e] = b.c.map((v) => clamp01(v / scale)) as [number, number, number, number];
    const x0 = Math.min(a, d);
    const x1 = Math.max(a, d);
    const y0 = Math.min(c, e);
    const y1 = Math.max(c, e);
    if (x1 - x0 <= 0 || y1 - y0 <= 0) continue;
    out.push({ x: x0, y: y0, width: x1 - x0, height: y1 - y0, ...(b.label !== undefined ? { label: b.label } : {}) });
  }
  return out;
}
