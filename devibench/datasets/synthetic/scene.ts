/**
 * One synthetic scene: a target text object and 2-4 other text objects, each a solid panel in a
 * named colour (distinct names within a clip) with contrasting text, in varied fonts and sizes,
 * spread over the frame in front of one of several kinds of background. Pure and seeded: the same
 * random draws give the same scene.
 *
 * The layout is drawn to make the target's questions unambiguous (layout.ts rules) for the kind of
 * scene wanted: "prominent" (big target near the centre, small others at the edges: bare and size
 * questions) or "scattered" (target at an edge: position questions, and a clearly big or small
 * target). A draw that breaks a rule is thrown away and the next one tried; what a layout finally
 * allows is read back from the same rules.
 */
import type { BackgroundSpec } from "../../../encoder/synth/backgrounds.ts";
import { FACE_NAMES, textWidthEm, type FaceName } from "../../../encoder/synth/fonts.ts";
import { pick, randInt, type Rng } from "../../../encoder/synth/prng.ts";
import { bareHolds, cellZone, overlaps, placeIn, sizeHolds, validDirections, type Box, type Direction, type Placed, type Zone } from "./layout.ts";
import { COLOUR_NAMES, COLOURED_TEXT, PANEL_SHADES, plainTextFor, rgbDistance, type ColourName, type Paint } from "./palette.ts";
import { LABEL_WORDS, labelFormTarget, multiLineTarget, otherLines, plainTarget, wordsOf, type TargetText } from "./vocabulary.ts";

export interface TextObject extends Placed {
  readonly role: "target" | "other";
  readonly lines: readonly string[];
  readonly face: FaceName;
  readonly bold: boolean;
  readonly panel: Paint;
  readonly ink: Paint;
}

export interface Scene {
  readonly target: TargetText;
  /** Target first. */
  readonly objects: readonly TextObject[];
  readonly background: BackgroundSpec;
  readonly layout: "prominent" | "scattered";
  readonly directions: readonly Direction[];
  readonly size: "big" | "small" | null;
  readonly bare: boolean;
  /** The target's letters are coloured (on a white panel). */
  readonly colouredInk: boolean;
}

export interface SceneOptions {
  readonly width: number;
  readonly height: number;
  readonly shakePx: number;
  /** Boxes text must keep clear of (the coloured squares). */
  readonly obstacles: readonly Box[];
  /** Text sizes to use instead of the 16-40 px range (px at the clip's height). */
  readonly fontSizes?: readonly number[];
}

type SizePlan = { target: [number, number]; others: (t: number) => [number, number] };

/** Text heights in px at 720 lines for each kind of scene. */
const SIZES: Readonly<Record<"prominent" | "big" | "small" | "multiBig" | "multiAny", SizePlan>> = {
  prominent: { target: [34, 40], others: (t) => [16, Math.floor(t / 1.55)] },
  big: { target: [28, 40], others: (t) => [16, Math.floor(t / 1.45)] },
  small: { target: [16, 20], others: (t) => [Math.ceil(t / 0.68), 36] },
  multiBig: { target: [24, 28], others: (t) => [16, Math.floor(t / 1.45)] },
  multiAny: { target: [18, 24], others: () => [16, 30] },
};

/** Panel padding and line spacing, as encoder/synth/clip.ts draws them. */
function panelSize(lines: readonly string[], fontPx: number, face: FaceName, bold: boolean): { width: number; height: number } {
  const pad = Math.max(4, Math.round(fontPx * 0.6));
  const small = Math.max(8, Math.round(fontPx * 0.75));
  const textW = Math.max(...lines.map((l, k) => textWidthEm(l, face, k === 0 && bold) * (k === 0 ? fontPx : small)));
  const height = lines.length === 1
    ? Math.round(fontPx * 2.1)
    : pad + fontPx + Math.round(pad * 0.8) + (lines.length - 2) * Math.round(small * 1.4) + Math.round(small * 1.25) + Math.round(pad * 0.8);
  const even = (v: number) => Math.ceil(v / 2) * 2;
  return { width: even(textW + 2 * pad), height: even(height) };
}

function backgroundFor(rng: Rng, n: number, seed: number, w: number, h: number): { spec: BackgroundSpec; main: string[] } {
  const k = h / 720;
  const kinds = ["texture", "bricks", "tiles", "wall", "stripes", "bokeh"] as const;
  switch (kinds[(n + seed) % kinds.length]!) {
    case "texture": {
      const colors = pick(rng, [["0x30405a", "0x8a6b3a", "0x2f6b4a"], ["0x4a3050", "0x3a6b8a", "0x6b5a2f"], ["0x2a4a4a", "0x7a4a3a", "0x4a5a7a"], ["0x505050", "0x3a5a3a", "0x6a4a2a"]] as const);
      return { spec: { kind: "texture", colors }, main: [...colors] };
    }
    case "bricks": {
      const brick = pick(rng, ["0x8a3b2a", "0x9c5a3c", "0x7a7a78", "0xb08d57", "0x6e3b2e"]);
      const bw = randInt(rng, 60, 110) * k;
      return {
        spec: { kind: "bricks", brick, mortar: pick(rng, ["0xc8c0b0", "0x8a8580", "0x5a5652"]), brickWidthPx: bw, brickHeightPx: bw / (2.2 + rng() * 0.6), jitter: 0.08 + rng() * 0.1 },
        main: [brick],
      };
    }
    case "tiles": {
      const tile = pick(rng, ["0xe8e8e0", "0xcfe3e8", "0x2f4f4f", "0xd9c7a7", "0x9fb8a0", "0x3b3f58"]);
      return { spec: { kind: "tiles", tile, grout: pick(rng, ["0x9a9a94", "0x444444", "0xdddddd"]), tilePx: randInt(rng, 40, 90) * k, jitter: 0.03 + rng() * 0.05 }, main: [tile] };
    }
    case "wall": {
      const color = pick(rng, ["0xb9b2a5", "0x8fa3ad", "0xd8cbb0", "0x6b705c", "0xc9d6c4", "0x8c6f5a", "0x50627a"]);
      return { spec: { kind: "wall", color, blotch: 0.01 + rng() * 0.03 }, main: [color] };
    }
    case "stripes": {
      const colors = pick(rng, [["0x2f3e4e", "0x445566"], ["0xd9d2c0", "0xb8ae98"], ["0x5a2e2e", "0x7a4a3a"], ["0x2e4a3a", "0x3e5e4a"], ["0x404040", "0x585858"]] as const);
      return { spec: { kind: "stripes", colors, stripePx: randInt(rng, 14, 60) * k, angleDeg: pick(rng, [0, 30, 45, 90, 120, 135]) }, main: [...colors] };
    }
    case "bokeh": {
      const [top, bottom] = pick(rng, [["0x101820", "0x2a2030"], ["0x1a1410", "0x3a2a18"], ["0x0c1a24", "0x203848"], ["0x181818", "0x30302a"]] as const);
      const circles = Array.from({ length: randInt(rng, 10, 16) }, () => ({
        x: rng() * w, y: rng() * h, radiusPx: randInt(rng, 20, 90) * k,
        color: pick(rng, ["0xffd28a", "0xffb070", "0xa0d0ff", "0xfff0c0", "0xff9090", "0xc0ffd0"]), opacity: 0.25 + rng() * 0.35,
      }));
      return { spec: { kind: "bokeh", top, bottom, circles }, main: [top, bottom] };
    }
  }
}

/** A shade of the name that stands out from the background, or null when none does. */
function shadeFor(rng: Rng, name: ColourName, background: readonly string[]): string | null {
  const ok = PANEL_SHADES[name].filter((s) => background.every((b) => rgbDistance(s, b) >= 60));
  return ok.length > 0 ? pick(rng, ok) : null;
}

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Others' words must not point at the target: no shared word, no label word, no time near a label target. */
function otherTextFor(rng: Rng, target: TargetText, taken: readonly string[][]): string[] {
  const targetWords = new Set(wordsOf(target.lines));
  const stems = [...targetWords].filter((w) => w.length >= 4).map((w) => w.slice(0, 4));
  for (let attempt = 0; attempt < 60; attempt++) {
    const lines = otherLines(rng);
    const words = wordsOf(lines);
    const clash = words.some((w) => targetWords.has(w) || LABEL_WORDS.has(w) || stems.some((s) => w.startsWith(s)));
    const timeNearLabel = target.labels.length > 0 && lines.some((l) => l.includes(":"));
    const repeat = taken.some((t) => t.join(" ") === lines.join(" "));
    if (!clash && !timeNearLabel && !repeat) return lines;
  }
  return [`NOTICE ${taken.length + 1}`];
}

function sizeIn(rng: Rng, [lo, hi]: [number, number], k: number, list?: readonly number[]): number {
  if (list && list.length > 0) {
    const fit = list.filter((s) => s >= lo * k && s <= hi * k);
    return pick(rng, fit.length > 0 ? fit : list);
  }
  const a = Math.round(lo * k);
  return randInt(rng, a, Math.max(a, Math.round(hi * k)));
}

/** The scene of clip `n` (target form by n: one line, three lines, one line, label line). */
export function buildScene(rng: Rng, n: number, seed: number, o: SceneOptions): Scene {
  const { width: w, height: h } = o;
  const k = h / 720;
  const target = n % 4 === 1 ? multiLineTarget(rng, Math.floor(n / 4)) : n % 4 === 3 ? labelFormTarget(rng) : plainTarget(rng);
  const multi = target.lines.length > 1;
  const layout: Scene["layout"] = !multi && rng() < 0.6 ? "prominent" : "scattered";
  const sizeMode = layout === "prominent" ? "prominent" : multi ? (rng() < 0.5 ? "multiBig" : "multiAny") : rng() < 0.5 ? "big" : "small";
  const otherCount = randInt(rng, 2, 4);
  const bg = backgroundFor(rng, n, seed, w, h);

  // Colours: distinct names. One white panel may carry coloured letters (in a name no panel has);
  // otherwise white is a panel colour like any other, with dark letters.
  const inkOn = rng() < 0.3 ? 0 : rng() < 0.2 ? 1 + randInt(rng, 0, otherCount - 1) : -1;
  const names = shuffled(rng, COLOUR_NAMES.filter((c) => inkOn < 0 || c !== "white"));
  const panels: Paint[] = [];
  for (let i = 0; i <= otherCount; i++) {
    if (i === inkOn) {
      panels.push({ name: "white", hex: pick(rng, PANEL_SHADES.white) });
      continue;
    }
    let paint: Paint | null = null;
    while (paint === null) {
      const name = names.shift();
      // Twelve names and at most five panels: the list never runs out before a shade fits.
      if (name === undefined) throw new Error("synthetic scene: no panel colour left that stands out from the background");
      const hex = shadeFor(rng, name, bg.main);
      if (hex !== null) paint = { name, hex };
    }
    panels.push(paint);
  }
  const inkNames = (Object.keys(COLOURED_TEXT) as ColourName[]).filter((c) => !panels.some((p) => p.name === c));
  const inks: Paint[] = panels.map((p, i) => {
    if (i === inkOn && inkNames.length > 0) {
      const name = pick(rng, inkNames);
      return { name, hex: pick(rng, COLOURED_TEXT[name]!) };
    }
    return plainTextFor(rng, p.hex);
  });
  const colouredInk = inkOn === 0 && inkNames.length > 0;

  // Text and sizes; panels from their text.
  const plan = SIZES[sizeMode];
  const tPx = sizeIn(rng, plan.target, k, o.fontSizes);
  const taken: string[][] = [];
  const block = (i: number) => {
    const lines = i === 0 ? [...target.lines] : otherTextFor(rng, target, taken);
    const face = pick(rng, FACE_NAMES);
    const bold = i === 0 ? rng() < 0.85 : rng() < 0.7;
    let fontPx = i === 0 ? tPx : sizeIn(rng, plan.others(tPx / k), k, o.fontSizes);
    // Keep panels well inside the frame: shrink a long line's text (rules read the final size).
    const maxW = (i === 0 ? 0.8 : 0.42) * w;
    let size = panelSize(lines, fontPx, face, bold);
    while (size.width > maxW && fontPx > 6) size = panelSize(lines, --fontPx, face, bold);
    return { lines, face, bold, fontPx, ...size };
  };
  const first = block(0);
  // The size rules also compare panels: where the target is to be the biggest (or smallest) text,
  // another object's panel must also be shorter and smaller (taller and larger). Draw its text
  // again until it is, a few times, then keep the last draw (the rules will say what it allows).
  const fits = (b: ReturnType<typeof block>) =>
    sizeMode === "multiAny" ||
    (sizeMode === "small"
      ? b.height >= first.height && b.width * b.height >= first.width * first.height
      : b.height <= first.height && b.width * b.height <= first.width * first.height);
  const blocks = [first];
  for (let i = 1; i <= otherCount; i++) {
    let b = block(i);
    for (let tries = 0; tries < 12 && !fits(b); tries++) b = block(i);
    taken.push(b.lines);
    blocks.push(b);
  }

  const margin = o.shakePx + Math.round(6 * k);
  const gap = Math.round(12 * k);
  const centre = { x0: 0.32, x1: 0.68, y0: 0.3, y1: 0.6 };
  const border = [0, 1, 2, 3, 5, 6, 7, 8];
  let fallback: Box[] | null = null;
  let boxes: Box[] | null = null;
  for (let attempt = 0; attempt < 400 && boxes === null; attempt++) {
    const targetCell = layout === "prominent" ? 4 : pick(rng, border);
    const cells = shuffled(rng, (layout === "prominent" ? border : [0, 1, 2, 3, 4, 5, 6, 7, 8]).filter((c) => c !== targetCell));
    const zones: Zone[] = blocks.map((_, i) => (i === 0 && layout === "prominent" ? centre : cellZone(...cellOf(i === 0 ? targetCell : cells[i - 1]!))));
    const drawn = blocks.map((b, i) => placeIn(zones[i]!, b.width, b.height, w, h, margin, rng(), rng()));
    const clear = drawn.every((b, i) => drawn.every((c, j) => j <= i || !overlaps(b, c, gap)) && o.obstacles.every((ob) => !overlaps(b, ob, gap)));
    if (!clear) continue;
    fallback ??= drawn;
    const placed = drawn.map((b, i) => ({ ...b, fontPx: blocks[i]!.fontPx }));
    const [t, ...rest] = placed as [Placed, ...Placed[]];
    const wanted =
      layout === "prominent"
        ? bareHolds(t, rest, w, h) && sizeHolds(t, rest, "big") && validDirections(t, rest, w, h).length > 0
        : validDirections(t, rest, w, h).length > 0 && (sizeMode === "multiAny" || sizeHolds(t, rest, sizeMode === "small" ? "small" : "big"));
    if (wanted) boxes = drawn;
  }
  // No draw met every wish (tiny frames, one text size for all): keep the first clear one and ask
  // only what it allows; with no clear draw at all, fewer objects.
  let chosen = boxes ?? fallback;
  let count = blocks.length;
  while (chosen === null && count > 1) {
    count--;
    chosen = stackedLayout(blocks.slice(0, count), w, h, margin, gap, o.obstacles);
  }
  const finalBoxes = chosen ?? [placeIn(centre, blocks[0]!.width, blocks[0]!.height, w, h, margin, 0.5, 0.5)];
  const objects: TextObject[] = finalBoxes.map((b, i) => ({
    ...b, role: i === 0 ? "target" : "other", lines: blocks[i]!.lines, face: blocks[i]!.face, bold: blocks[i]!.bold,
    fontPx: blocks[i]!.fontPx, panel: panels[i]!, ink: inks[i]!,
  }));
  const [t, ...rest] = objects as [TextObject, ...TextObject[]];
  const size = sizeHolds(t, rest, "big") ? "big" : sizeHolds(t, rest, "small") ? "small" : null;
  return {
    target, objects, background: bg.spec, layout, directions: validDirections(t, rest, w, h), size,
    bare: !multi && bareHolds(t, rest, w, h), colouredInk,
  };
}

/**
 * What would make a question about the scene ambiguous, read again from the finished scene:
 * colour names shared, a direction, size or prominence the rules do not give, a target word or
 * label word on another object, objects overlapping or outside the frame. Empty when none.
 */
export function sceneProblems(s: Scene, w: number, h: number): string[] {
  const out: string[] = [];
  const [t, ...rest] = s.objects;
  if (t === undefined) return ["no target"];
  const names = s.objects.map((o) => o.panel.name);
  if (new Set(names).size !== names.length) out.push(`panel colour names repeat: ${names.join(", ")}`);
  const inks = s.objects.filter((o) => o.panel.name === "white" && o.ink.name !== "black" && o.ink.name !== "white").map((o) => o.ink.name);
  for (const ink of inks) if (names.includes(ink) || inks.filter((i) => i === ink).length > 1) out.push(`letter colour ${ink} is also another colour in the clip`);
  if (s.colouredInk && !inks.includes(t.ink.name)) out.push("target's coloured letters are not told apart");
  const dirs = validDirections(t, rest, w, h);
  if (s.directions.some((d) => !dirs.includes(d))) out.push(`directions ${s.directions.join(", ")} but the rules give ${dirs.join(", ")}`);
  if (s.size !== null && !sizeHolds(t, rest, s.size)) out.push(`target is not clearly the ${s.size === "big" ? "biggest" : "smallest"}`);
  if (s.bare && (t.lines.length > 1 || !bareHolds(t, rest, w, h))) out.push("target is not clearly the most prominent text");
  const targetWords = new Set(wordsOf(t.lines));
  for (const o of rest) {
    const clash = wordsOf(o.lines).filter((x) => targetWords.has(x) || LABEL_WORDS.has(x));
    if (clash.length > 0) out.push(`other object "${o.lines.join(" / ")}" shows ${clash.join(", ")}`);
  }
  s.objects.forEach((a, i) => {
    if (a.x < 0 || a.y < 0 || a.x + a.width > w || a.y + a.height > h) out.push(`object ${i} is outside the frame`);
    s.objects.forEach((b, j) => {
      if (j > i && overlaps(a, b, 0)) out.push(`objects ${i} and ${j} overlap`);
    });
  });
  return out;
}

function cellOf(cell: number): [number, number] {
  return [cell % 3, Math.floor(cell / 3)];
}

/** Last resort: objects one under another down the left side, if they fit. */
function stackedLayout(blocks: ReadonlyArray<{ width: number; height: number }>, w: number, h: number, margin: number, gap: number, obstacles: readonly Box[]): Box[] | null {
  const out: Box[] = [];
  let y = margin;
  for (const b of blocks) {
    while (obstacles.some((ob) => overlaps({ x: margin, y, width: b.width, height: b.height }, ob, gap)) && y + b.height < h) y += gap;
    if (y + b.height > h - margin || margin + b.width > w - margin) return null;
    out.push({ x: margin, y, width: b.width, height: b.height });
    y += b.height + gap;
  }
  return out;
}
