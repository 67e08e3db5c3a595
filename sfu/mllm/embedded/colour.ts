/**
 * Colour from pixels, the way people name it: the dominant colours of a text box (the text and
 * what it is printed on) and of its surroundings, and the names people give them.
 *
 * Distances are taken in OKLab (Björn Ottosson, "A perceptual color space for image processing",
 * 2020: https://bottosson.github.io/posts/oklab/), where Euclidean distance follows perceived
 * difference far better than in RGB, so "the nearest named colour" means what it says. Each
 * name has several prototypes (navy and sky blue are both "blue"), and a name's score is a soft
 * membership from its nearest prototype, so that a colour that video coding washed out towards
 * grey still ranks the sign that is "most blue" first (grounding compares signs with each other,
 * not with a fixed threshold).
 *
 * Pure: pixels in, numbers out.
 */
import type { VideoFrame } from "../types.ts";
import type { PixelBox } from "./geometry.ts";

export type Oklab = readonly [number, number, number];

/** sRGB transfer function inverse (IEC 61966-2-1), 0..255 -> linear 0..1. */
function linear(c: number): number {
  const v = c / 255;
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

const LINEAR = Float64Array.from({ length: 256 }, (_, i) => linear(i));

/** sRGB (0..255 each) to OKLab, with Ottosson's published matrices. */
export function oklab(r: number, g: number, b: number): Oklab {
  const lr = LINEAR[r & 255]!;
  const lg = LINEAR[g & 255]!;
  const lb = LINEAR[b & 255]!;
  const l = Math.cbrt(0.4122214708 * lr + 0.5363325363 * lg + 0.0514459929 * lb);
  const m = Math.cbrt(0.2119034982 * lr + 0.6806995451 * lg + 0.1073969566 * lb);
  const s = Math.cbrt(0.0883024619 * lr + 0.2817188376 * lg + 0.6299787005 * lb);
  return [
    0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s,
    1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s,
  ];
}

export function hexToOklab(hex: string): Oklab {
  const v = Number.parseInt(hex.replace(/^(#|0x)/i, ""), 16);
  return oklab((v >> 16) & 255, (v >> 8) & 255, v & 255);
}

export function distance(a: Oklab, b: Oklab): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Chroma (colourfulness) of an OKLab colour: 0 for greys, ~0.1-0.3 for vivid colours. */
export function chroma(c: Oklab): number {
  return Math.hypot(c[1], c[2]);
}

export const COLOUR_NAMES = ["red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown", "black", "white", "grey"] as const;
export type ColourName = (typeof COLOUR_NAMES)[number];

/**
 * Prototypes per name, from common web and paint colours: dark, mid and light shades of each hue,
 * so that the nearest prototype, not a single centroid, decides.
 */
const PROTOTYPES: Readonly<Record<ColourName, readonly string[]>> = {
  red: ["ff0000", "d02020", "b22222", "c0392b", "e53935", "8b0000", "dc143c", "a52a2a"],
  orange: ["ff8c00", "e07010", "f39c12", "ff7f27", "ffa500", "e67e22", "ff6f00"],
  yellow: ["ffff00", "ffd700", "f1c40f", "e0c020", "f4d03f", "fff176", "d4b000"],
  green: ["008000", "20a040", "2ecc71", "228b22", "00c000", "006400", "27ae60", "90ee90", "6b8e23", "32cd32"],
  teal: ["008080", "00a0a0", "40e0d0", "00ced1", "20b2aa", "00ffff"],
  blue: ["0000ff", "2050d0", "1e90ff", "4169e1", "000080", "3498db", "87ceeb", "0b3d91", "1565c0", "6495ed", "003399"],
  purple: ["800080", "8030b0", "9b59b6", "6a0dad", "7d3c98", "4b0082", "ba55d3", "9370db"],
  pink: ["ff69b4", "ffc0cb", "e91e63", "ff1493", "f48fb1", "db7093"],
  brown: ["8b4513", "a0522d", "6f4e37", "7b3f00", "5d4037", "8d6e63", "996633"],
  black: ["000000", "1a1a1a", "202020", "101418"],
  white: ["ffffff", "f5f5f5", "f2f2e8", "fafaf0", "eeeeee"],
  grey: ["808080", "a0a0a0", "606060", "c0c0c0", "404040", "909aa0"],
};

const PROTO_LAB: ReadonlyArray<{ name: ColourName; lab: Oklab }> = COLOUR_NAMES.flatMap((name) =>
  PROTOTYPES[name].map((hex) => ({ name, lab: hexToOklab(hex) })),
);

/** Words people use for each name (and a few close ones they use interchangeably). */
export const COLOUR_WORDS: Readonly<Record<string, ColourName>> = {
  red: "red", crimson: "red", scarlet: "red", maroon: "red",
  orange: "orange", amber: "orange",
  yellow: "yellow", gold: "yellow", golden: "yellow",
  green: "green", lime: "green", olive: "green",
  teal: "teal", cyan: "teal", turquoise: "teal", aqua: "teal",
  blue: "blue", navy: "blue", azure: "blue",
  purple: "purple", violet: "purple", magenta: "purple", lilac: "purple", lavender: "purple",
  pink: "pink", rose: "pink",
  brown: "brown", tan: "brown", beige: "brown",
  black: "black", dark: "black",
  white: "white", cream: "white",
  grey: "grey", gray: "grey", silver: "grey",
};

/** Soft width of a name's membership, in OKLab units (about two just-noticeable differences x 10). */
const SIGMA = 0.09;

/** Membership of a colour in each name, 0..1 (1 at a prototype), from the nearest prototype. */
export function nameScores(c: Oklab): Record<ColourName, number> {
  const best = Object.fromEntries(COLOUR_NAMES.map((n) => [n, Infinity])) as Record<ColourName, number>;
  for (const p of PROTO_LAB) best[p.name] = Math.min(best[p.name], distance(c, p.lab));
  return Object.fromEntries(COLOUR_NAMES.map((n) => [n, Math.exp(-((best[n] / SIGMA) ** 2) / 2)])) as Record<ColourName, number>;
}

/** The name people would give the colour, with how clearly it beats the runner-up (0..1). */
export function nameColour(c: Oklab): { name: ColourName; margin: number } {
  const s = nameScores(c);
  const ranked = COLOUR_NAMES.map((n) => [n, s[n]] as const).sort((a, b) => b[1] - a[1]);
  const [first, second] = ranked;
  return { name: first![0], margin: first![1] > 0 ? (first![1] - second![1]) / first![1] : 0 };
}

/**
 * Share of the colour that belongs to `name` among all names (0..1): the grounding score of "the
 * blue sign" for a sign of this colour.
 */
export function colourMatch(c: Oklab, name: ColourName): number {
  const s = nameScores(c);
  let total = 0;
  for (const n of COLOUR_NAMES) total += s[n];
  return total > 0 ? s[name] / total : 0;
}

/** The colours of a text box: what it is printed on, the text itself, and the box's surroundings. */
export interface BoxColours {
  /** What the text is printed on: the box's dominant colour at its border. */
  readonly background: Oklab;
  /** The text strokes: the colour cluster that is not the background. */
  readonly text: Oklab;
  /** A ring around the box: the sign panel when the text sits on one, else the scene. */
  readonly surround: Oklab;
  /** Share of the box's pixels in the text cluster (0..1). */
  readonly textShare: number;
}

function clampBox(b: PixelBox, w: number, h: number): PixelBox {
  const x = Math.max(0, Math.min(w - 1, Math.floor(b.x)));
  const y = Math.max(0, Math.min(h - 1, Math.floor(b.y)));
  return { x, y, width: Math.max(1, Math.min(w - x, Math.ceil(b.width))), height: Math.max(1, Math.min(h - y, Math.ceil(b.height))) };
}

/** Pixels sampled on a grid of at most ~`max` points inside `box`, minus `hole` when given. */
function samples(frame: VideoFrame, box: PixelBox, max: number, hole?: PixelBox): Oklab[] {
  const b = clampBox(box, frame.width, frame.height);
  const step = Math.max(1, Math.floor(Math.sqrt((b.width * b.height) / max)));
  const out: Oklab[] = [];
  for (let y = b.y; y < b.y + b.height; y += step) {
    for (let x = b.x; x < b.x + b.width; x += step) {
      if (hole && x >= hole.x && x < hole.x + hole.width && y >= hole.y && y < hole.y + hole.height) continue;
      const i = (y * frame.width + x) * 3;
      out.push(oklab(frame.rgb[i]!, frame.rgb[i + 1]!, frame.rgb[i + 2]!));
    }
  }
  return out;
}

function mean(xs: readonly Oklab[]): Oklab {
  if (xs.length === 0) return [0, 0, 0];
  let l = 0;
  let a = 0;
  let b = 0;
  for (const x of xs) {
    l += x[0];
    a += x[1];
    b += x[2];
  }
  return [l / xs.length, a / xs.length, b / xs.length];
}

/**
 * The dominant colour of a set of pixels: the component-wise median, which ignores a minority of
 * other pixels (text strokes in a panel, a stray edge) where a mean would be pulled towards them.
 */
export function dominant(xs: readonly Oklab[]): Oklab {
  if (xs.length === 0) return [0, 0, 0];
  const med = (k: 0 | 1 | 2) => {
    const v = xs.map((x) => x[k]).sort((p, q) => p - q);
    return v[Math.floor(v.length / 2)]!;
  };
  return [med(0), med(1), med(2)];
}

/**
 * Two colour clusters (2-means in OKLab, seeded from the darkest and lightest pixels): for a text
 * box, the text and what it is printed on.
 */
export function twoClusters(xs: readonly Oklab[]): { a: Oklab; b: Oklab; inA: boolean[] } {
  if (xs.length === 0) return { a: [0, 0, 0], b: [0, 0, 0], inA: [] };
  let a: Oklab = xs.reduce((p, q) => (q[0] < p[0] ? q : p));
  let b: Oklab = xs.reduce((p, q) => (q[0] > p[0] ? q : p));
  let inA = xs.map(() => true);
  for (let it = 0; it < 8; it++) {
    inA = xs.map((x) => distance(x, a) <= distance(x, b));
    const na = mean(xs.filter((_, i) => inA[i]));
    const nb = mean(xs.filter((_, i) => !inA[i]));
    if (inA.every((v) => v)) break;
    if (inA.every((v) => !v)) break;
    a = na;
    b = nb;
  }
  return { a, b, inA };
}

/**
 * Undoes what video coding does to the colour of letters. H.264 and VP8 code colour at half the
 * resolution of brightness (4:2:0), so the colour of strokes a few pixels wide is averaged with
 * the panel around them: coloured letters on white lose about half their chroma, and white
 * letters on a red panel turn pink. So the part of the letters' chroma that points towards the
 * panel's colour (up to 60% of the panel's own chroma) is taken as bleed and removed, and the
 * rest is restored by 1.5 (half lost, less what the core pixels kept). Brightness is coded at
 * full resolution, but the strokes of small letters (a box under ~32 px high) are only a pixel or
 * two wide, so blur and anti-aliasing pull them towards the panel too: the contrast of letters
 * that stay near grey (black or white ones) is restored by up to 1.5 at 16 px.
 */
export function letterColour(text: Oklab, panel: Oklab, boxHeightPx = 32): Oklab {
  const pc = Math.hypot(panel[1], panel[2]);
  let [a, b] = [text[1], text[2]];
  if (pc > 0.03) {
    const [ua, ub] = [panel[1] / pc, panel[2] / pc];
    const along = a * ua + b * ub;
    const bleed = Math.max(0, Math.min(along, 0.6 * pc));
    a -= bleed * ua;
    b -= bleed * ub;
  }
  a *= 1.5;
  b *= 1.5;
  // Brightness is restored only for letters that stay near grey: black or white letters blended
  // with their panel read as grey, while coloured letters keep their measured brightness (their
  // darkest core pixels are already about right, and darkening them would turn dark green black).
  const kL = Math.hypot(a, b) < 0.06 ? 1 + Math.min(0.5, Math.max(0, (32 - boxHeightPx) / 32)) : 1;
  const L = Math.min(1, Math.max(0, panel[0] + (text[0] - panel[0]) * kL));
  return [L, a, b];
}

/**
 * The colours of a text box in a frame. The background is the cluster that holds most of the
 * box's outer edge (between and around the letters); the ring around the box, half a text height
 * wide, gives the surround.
 */
export function boxColours(frame: VideoFrame, box: PixelBox): BoxColours {
  const b = clampBox(box, frame.width, frame.height);
  const inside = samples(frame, b, 1600);
  const { a, b: c2, inA } = twoClusters(inside);
  // The box's outer edge: one sample row/column inside each side.
  const edge = [
    ...samples(frame, { x: b.x, y: b.y, width: b.width, height: 1 }, 200),
    ...samples(frame, { x: b.x, y: b.y + b.height - 1, width: b.width, height: 1 }, 200),
    ...samples(frame, { x: b.x, y: b.y, width: 1, height: b.height }, 60),
    ...samples(frame, { x: b.x + b.width - 1, y: b.y, width: 1, height: b.height }, 60),
  ];
  const edgeA = edge.filter((x) => distance(x, a) <= distance(x, c2)).length;
  const aIsBackground = edgeA * 2 >= edge.length;
  const background = dominant(inside.filter((_, i) => inA[i] === aIsBackground));
  const textPixels = inside.filter((_, i) => inA[i] !== aIsBackground);
  // The letters' own colour is at the core of their strokes: small and thin letters are mostly
  // edge, where anti-aliasing and chroma subsampling (4:2:0 halves colour resolution) blend them
  // with the background. The pixels farthest from the background are the core.
  const core = [...textPixels].sort((p, q) => distance(q, background) - distance(p, background)).slice(0, Math.max(1, Math.ceil(textPixels.length * 0.35)));
  const text = core.length > 0 && textPixels.length > 0 ? letterColour(dominant(core), background, b.height) : background;
  const ring = Math.max(2, Math.round(b.height * 0.5));
  const outer = clampBox({ x: b.x - ring, y: b.y - ring, width: b.width + 2 * ring, height: b.height + 2 * ring }, frame.width, frame.height);
  const around = samples(frame, outer, 1200, b);
  return { background, text, surround: around.length > 0 ? dominant(around) : background, textShare: inside.length ? textPixels.length / inside.length : 0 };
}

/**
 * The largest patch of a named colour in a frame (a sign's panel), as a pixel box: the frame is
 * cut into cells about `cellPx` wide, a cell counts when its mean colour belongs to the name
 * (`colourMatch` at least `minMatch`, and clearly more than to any other name), and the biggest
 * 4-connected group of such cells wins. For "the blue sign" when its text is too blurred for the
 * text detector to find: the colour of a panel survives coding far better than its letters.
 * Null when no group of at least `minCells` cells exists.
 */
export function colourRegion(frame: VideoFrame, name: ColourName, options: { cellPx?: number; minMatch?: number; minCells?: number } = {}): PixelBox | null {
  const cell = Math.max(4, Math.round(options.cellPx ?? Math.max(8, frame.width / 80)));
  const minMatch = options.minMatch ?? 0.4;
  const minCells = options.minCells ?? 4;
  const cols = Math.floor(frame.width / cell);
  const rows = Math.floor(frame.height / cell);
  if (cols === 0 || rows === 0) return null;
  const hit = new Uint8Array(cols * rows);
  const step = Math.max(1, Math.floor(cell / 4));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let R = 0;
      let G = 0;
      let B = 0;
      let n = 0;
      for (let y = r * cell; y < (r + 1) * cell; y += step) {
        for (let x = c * cell; x < (c + 1) * cell; x += step) {
          const i = (y * frame.width + x) * 3;
          R += frame.rgb[i]!;
          G += frame.rgb[i + 1]!;
          B += frame.rgb[i + 2]!;
          n++;
        }
      }
      const lab = oklab(Math.round(R / n), Math.round(G / n), Math.round(B / n));
      if (colourMatch(lab, name) >= minMatch) hit[r * cols + c] = 1;
    }
  }
  // Largest 4-connected group of hits (iterative flood fill).
  const seen = new Uint8Array(cols * rows);
  let best: { n: number; c0: number; r0: number; c1: number; r1: number } | null = null;
  const stack: number[] = [];
  for (let start = 0; start < hit.length; start++) {
    if (!hit[start] || seen[start]) continue;
    let n = 0;
    let [c0, r0, c1, r1] = [cols, rows, -1, -1];
    stack.push(start);
    seen[start] = 1;
    while (stack.length > 0) {
      const k = stack.pop()!;
      const r = Math.floor(k / cols);
      const c = k % cols;
      n++;
      [c0, r0, c1, r1] = [Math.min(c0, c), Math.min(r0, r), Math.max(c1, c), Math.max(r1, r)];
      for (const [dc, dr] of [[1, 0], [-1, 0], [0, 1], [0, -1]] as const) {
        const cc = c + dc;
        const rr = r + dr;
        if (cc < 0 || rr < 0 || cc >= cols || rr >= rows) continue;
        const j = rr * cols + cc;
        if (hit[j] && !seen[j]) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    if (n >= minCells && (!best || n > best.n)) best = { n, c0, r0, c1, r1 };
  }
  if (!best) return null;
  return { x: best.c0 * cell, y: best.r0 * cell, width: (best.c1 - best.c0 + 1) * cell, height: (best.r1 - best.r0 + 1) * cell };
}
