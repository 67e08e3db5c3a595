/**
 * Grounding: which text on the picture a question means. Each block of text (a sign, a label, a
 * caption: text-match.ts `groupBlocks`) is scored against everything the question says about its
 * referent (reference.ts): the colour of what it is printed on or of its letters, its position,
 * its size, the label words it shows ("What gate number ..."), and, when the question says
 * nothing ("What does it say?", "Read this"), how prominent it is. The scores multiply, so a
 * block must fit every clue; colour, position and size are judged against the other blocks in
 * view ("the blue sign" is the bluest one, if it is blue enough at all), as people judge them.
 *
 * The result is a pick with a confidence, a tie (two blocks fit about equally: ask which), or
 * nothing that fits. Used for answers (answer.ts), for the call's region maps and DeViBench's
 * detector region source (`rankRegions`), so the bits go where the answer will be read.
 *
 * Pure: text lines with their colours in, ranked blocks out.
 */
import { colourMatch, distance, dominant, nameColour, type BoxColours, type ColourName, type Oklab } from "./colour.ts";
import { union, type PixelBox, type TextLine } from "./geometry.ts";
import type { QuestionAnalysis } from "./question.ts";
import type { ColourRef } from "./reference.ts";
import { groupBlocks, labelPrefixLength, normalizeToken, wordMatch } from "./text-match.ts";

/** A block of text lines (one sign) with where it is and its colours. */
export interface Block {
  readonly lines: readonly TextLine[];
  readonly box: PixelBox;
  readonly colours: BoxColours | null;
}

export interface Grounded {
  readonly block: Block;
  /** 0..1: how well the block fits every clue the question gives. */
  readonly score: number;
  /** Per clue, for logs and replies. */
  readonly parts: Readonly<Record<string, number>>;
}

export type Grounding =
  | { readonly kind: "pick"; readonly best: Grounded; readonly confidence: number; readonly ranked: readonly Grounded[]; readonly constrained: boolean }
  | { readonly kind: "tie"; readonly ranked: readonly Grounded[]; readonly constrained: boolean }
  | { readonly kind: "none"; readonly ranked: readonly Grounded[]; readonly why: "no-text" | "no-colour" | "no-label"; readonly constrained: boolean };

export interface GroundingOptions {
  readonly frameWidth: number;
  readonly frameHeight: number;
}

/** A runner-up at this share of the best score or more is a tie: the question does not settle it. */
export const TIE_RATIO = 0.8;
/** A colour clue fits no block when the best block's membership in that colour is below this. */
const MIN_COLOUR_MATCH = 0.2;
/** Scale of position differences (share of the frame) over which a clue's score halves, about. */
const POSITION_SCALE = 0.12;

/** Colours of a block from those of its lines: the median of each (text strokes are a minority). */
function blockColours(lines: readonly TextLine[]): BoxColours | null {
  const cs = lines.map((l) => l.colours).filter((c): c is BoxColours => c !== undefined);
  if (cs.length === 0) return null;
  return {
    background: dominant(cs.map((c) => c.background)),
    text: dominant(cs.map((c) => c.text)),
    surround: dominant(cs.map((c) => c.surround)),
    textShare: cs.reduce((s, c) => s + c.textShare, 0) / cs.length,
  };
}

/**
 * Blocks of a frame's lines: lines stacked on one sign, split where what they are printed on
 * changes colour (two signs of other colours one above the other are two blocks).
 */
export function blocksOf(lines: readonly TextLine[]): Block[] {
  const same = (a: TextLine, b: TextLine) => !a.colours || !b.colours || distance(a.colours.background, b.colours.background) < 0.12;
  return groupBlocks(lines, same).map((ls) => ({ lines: ls, box: union(ls.map((l) => l.box)), colours: blockColours(ls) }));
}

/** The surface a block's text is printed on: the box's background, or the panel around it. */
export function surfaceColour(c: BoxColours): Oklab {
  return c.background;
}

function colourScore(c: BoxColours | null, ref: ColourRef): number {
  if (!c) return 0;
  if (ref.role === "text") return colourMatch(c.text, ref.name);
  // "the blue sign": what the text is on, or the panel around a tight box; a sign with blue
  // letters on white fits a little (letters are so often white or black that more weight there
  // would make "the white label" any panel with white letters).
  return Math.max(colourMatch(c.background, ref.name), 0.8 * colourMatch(c.surround, ref.name), 0.25 * colourMatch(c.text, ref.name));
}

/** How well the block shows the question's label words (0 when none of them), as answer.ts matches lines. */
function labelScore(words: readonly string[], block: Block): number {
  let best = 0;
  for (const line of block.lines) {
    const toks = line.text.split(/\s+/).filter((t) => t !== "");
    let total = 0;
    for (const w of words) {
      let s = 0;
      for (const t of toks) s = Math.max(s, wordMatch(w, t), labelPrefixLength(w, normalizeToken(t)) > 0 ? 0.8 : 0);
      total += s;
    }
    best = Math.max(best, total / words.length);
  }
  return best;
}

/** Text height of a block: its tallest line (a sign's first line is its biggest). */
function textHeight(b: Block): number {
  return Math.max(...b.lines.map((l) => l.box.height));
}

/** Text area times confidence, times a centre weight (1 at the centre, 0.5 in a corner). */
export function prominence(b: Block, o: GroundingOptions): number {
  const area = b.lines.reduce((s, l) => s + l.box.width * l.box.height * l.confidence, 0);
  const dx = b.box.x + b.box.width / 2 - o.frameWidth / 2;
  const dy = b.box.y + b.box.height / 2 - o.frameHeight / 2;
  return area * (1 - (0.5 * Math.hypot(dx, dy)) / Math.hypot(o.frameWidth / 2, o.frameHeight / 2));
}

/** Scores for a position clue: the block furthest that way gets 1, others less with distance. */
function positionScores(vals: readonly number[], want: "low" | "high" | "mid"): number[] {
  const d = vals.map((v) => (want === "low" ? v : want === "high" ? 1 - v : Math.abs(v - 0.5)));
  const best = Math.min(...d);
  return d.map((x) => 2 ** (-(x - best) / POSITION_SCALE));
}

export function ground(a: QuestionAnalysis, blocks: readonly Block[], o: GroundingOptions): Grounding {
  const ref = a.reference;
  const labels = a.contentWords;
  const constrained = labels.length > 0 || ref.colours.length > 0 || ref.horizontal !== null || ref.vertical !== null || ref.size !== null;
  if (blocks.length === 0) return { kind: "none", ranked: [], why: "no-text", constrained };
  const parts: Array<Record<string, number>> = blocks.map(() => ({}));
  const apply = (name: string, scores: readonly number[]) => scores.forEach((s, i) => (parts[i]![name] = s));
  let why: "no-colour" | "no-label" | null = null;

  for (const c of ref.colours) {
    const raw = blocks.map((b) => colourScore(b.colours, c));
    const top = Math.max(...raw);
    if (top < MIN_COLOUR_MATCH) why ??= "no-colour";
    apply(`colour:${c.role}:${c.name}`, raw.map((s) => (top > 0 ? s / top : 0)));
  }
  if (labels.length > 0) {
    const raw = blocks.map((b) => labelScore(labels, b));
    // A label found nowhere says nothing about which block is meant (the reading may be off);
    // the answer step reports it. Found somewhere, it is a strong clue.
    if (Math.max(...raw) > 0) apply("label", raw.map((s) => Math.max(0.05, s)));
    else if (!hasOtherClues(a)) why ??= "no-label";
  }
  const cx = blocks.map((b) => (b.box.x + b.box.width / 2) / o.frameWidth);
  const cy = blocks.map((b) => (b.box.y + b.box.height / 2) / o.frameHeight);
  if (ref.horizontal) apply(`h:${ref.horizontal}`, positionScores(cx, ref.horizontal === "left" ? "low" : ref.horizontal === "right" ? "high" : "mid"));
  if (ref.vertical) apply(`v:${ref.vertical}`, positionScores(cy, ref.vertical === "top" ? "low" : ref.vertical === "bottom" ? "high" : "mid"));
  if (ref.size) {
    // How big a sign or its text looks: its letters' height and its extent (square root of the
    // area), each relative to the biggest (or smallest) in view. Box heights alone mislead: the
    // detector's margin is a larger share of small text, and capitals-only lines have no descenders.
    const h = blocks.map(textHeight);
    const e = blocks.map((b) => Math.sqrt(b.box.width * b.box.height));
    const [hLo, hHi, eLo, eHi] = [Math.min(...h), Math.max(...h), Math.min(...e), Math.max(...e)];
    apply(`size:${ref.size}`, blocks.map((_, i) => (ref.size === "big" ? (h[i]! / hHi) * (e[i]! / eHi) : (hLo / h[i]!) * (eLo / e[i]!))));
  }
  if (!constrained) {
    const p = blocks.map((b) => prominence(b, o));
    const top = Math.max(...p);
    apply("prominence", p.map((x) => (top > 0 ? x / top : 0)));
  }
  const ranked = blocks
    .map((block, i) => ({ block, parts: parts[i]!, score: Object.values(parts[i]!).reduce((s, x) => s * x, 1) }))
    .sort((x, y) => y.score - x.score || y.block.lines.length - x.block.lines.length);
  if (why === "no-colour" || why === "no-label") return { kind: "none", ranked, why, constrained };
  let [best, second] = ranked;
  if (second && second.score >= TIE_RATIO * best!.score) {
    // Two blocks fit the clues about equally. If one of them is hardly text (a reading of blur or
    // texture, low confidence), the other is meant: nobody asks about what they cannot see as words.
    const readable = (g: Grounded) => g.score * meanConfidence(g.block) ** 2;
    const byReadable = [...ranked].sort((x, y) => readable(y) - readable(x));
    if (readable(byReadable[1]!) < TIE_RATIO * readable(byReadable[0]!)) {
      [best, second] = byReadable;
      return { kind: "pick", best: best!, confidence: 1 - readable(second!) / readable(best!), ranked: byReadable, constrained };
    }
    return { kind: "tie", ranked, constrained };
  }
  return { kind: "pick", best: best!, confidence: second ? 1 - second.score / best!.score : 1, ranked, constrained };
}

function meanConfidence(b: Block): number {
  return b.lines.reduce((s, l) => s + l.confidence, 0) / Math.max(1, b.lines.length);
}

function hasOtherClues(a: QuestionAnalysis): boolean {
  const r = a.reference;
  return r.colours.length > 0 || r.horizontal !== null || r.vertical !== null || r.size !== null;
}

/** The text a block shows, line by line, for answers and replies. */
export function blockText(b: Block): string {
  return b.lines.map((l) => l.text).join(" / ");
}

/** The name of a block's colour: of what the text is printed on, or of the letters. */
export function blockColourName(b: Block, of: "surface" | "text"): { name: ColourName; margin: number } | null {
  if (!b.colours) return null;
  return nameColour(of === "text" ? b.colours.text : surfaceColour(b.colours));
}
