/**
 * How a question points at the text it means, the way people point: by colour ("the blue sign",
 * "the red letters", "written in green"), by position ("top left", "on the right", "at the
 * bottom"), by size ("the big sign"), by line ("the second line"), or by nothing at all ("What does it
 * say?"). What the thing says ("the sign that says EXIT", "What gate number ...") is in the
 * question's other content words, the label words (question.ts), which grounding matches too.
 *
 * Pure: words in, a description of the referent out. grounding.ts scores text blocks against it.
 */
import { COLOUR_WORDS, type ColourName } from "./colour.ts";

/** What a colour word describes: the surface the text is on (sign, board, label) or the text itself. */
export type ColourRole = "surface" | "text";

export interface ColourRef {
  readonly name: ColourName;
  readonly role: ColourRole;
  /** The word as asked ("navy"), for replies. */
  readonly word: string;
}

export type Horizontal = "left" | "right" | "centre";
export type Vertical = "top" | "bottom" | "middle";

export interface Reference {
  readonly colours: readonly ColourRef[];
  readonly horizontal: Horizontal | null;
  readonly vertical: Vertical | null;
  readonly size: "big" | "small" | null;
  /** A line of the block: 0-based, -1 for the last. */
  readonly line: number | null;
  /** Question words used up by the reference (not label words). */
  readonly consumed: ReadonlySet<string>;
}

/** Words that name the text itself rather than what it is printed on. */
export const TEXT_WORDS = new Set(["text", "texts", "letter", "letters", "lettering", "writing", "font", "word", "words", "characters", "ink", "print", "type"]);

const HORIZONTAL: Record<string, Horizontal> = {
  left: "left", leftmost: "left", right: "right", rightmost: "right",
  centre: "centre", center: "centre", central: "centre",
};
const VERTICAL: Record<string, Vertical> = {
  top: "top", topmost: "top", upper: "top", uppermost: "top", above: "top",
  bottom: "bottom", lower: "bottom", lowest: "bottom", bottommost: "bottom", below: "bottom",
  middle: "middle",
};
const SIZE: Record<string, "big" | "small"> = {
  big: "big", bigger: "big", biggest: "big", large: "big", larger: "big", largest: "big", huge: "big", giant: "big", main: "big",
  small: "small", smaller: "small", smallest: "small", little: "small", tiny: "small", tinier: "small", tiniest: "small",
};
const ORDINAL: Record<string, number> = { first: 0, second: 1, third: 2, fourth: 3, fifth: 4, last: -1, "1st": 0, "2nd": 1, "3rd": 2, "4th": 3 };
/** Words that only shade a colour or a place ("dark blue", "top left corner"): never labels. */
const SHADES = new Set(["dark", "light", "bright", "pale", "deep", "corner", "side", "edge", "part", "half", "line", "lines", "row", "one", "ones"]);

/** Parses the reference out of a question's words (lower case, in order). */
export function parseReference(question: string, words: readonly string[]): Reference {
  const q = question.toLowerCase();
  const consumed = new Set<string>();
  const colours: ColourRef[] = [];
  words.forEach((w, i) => {
    const name = COLOUR_WORDS[w];
    if (!name) return;
    // "what colour is ..." asks for a colour: the colour words in it are not references unless
    // they qualify something ("is the blue sign ..."); "colour" itself is never a colour name.
    const next = words.slice(i + 1, i + 3);
    const prev = words.slice(Math.max(0, i - 2), i);
    const ofText = next.some((n) => TEXT_WORDS.has(n)) || (prev.includes("in") && /\b(written|printed|lettered|typed)\b/.test(q));
    colours.push({ name, role: ofText ? "text" : "surface", word: w });
    consumed.add(w);
  });
  let horizontal: Horizontal | null = null;
  let vertical: Vertical | null = null;
  let size: "big" | "small" | null = null;
  let line: number | null = null;
  words.forEach((w, i) => {
    const next = words[i + 1];
    if (next === "line" || next === "row") {
      if (w in ORDINAL) line = ORDINAL[w]!;
      else if (w === "top" || w === "upper") line = 0;
      else if (w === "bottom" || w === "lower") line = -1;
      if (line !== null) {
        consumed.add(w);
        return;
      }
    }
    if ((w === "line" || w === "row") && next !== undefined && /^\d$/.test(next)) {
      line = Number(next) - 1;
      consumed.add(next);
    }
    if (w in HORIZONTAL) {
      horizontal = HORIZONTAL[w]!;
      consumed.add(w);
    } else if (w in VERTICAL) {
      // "middle" with a horizontal word is the vertical middle; alone it means the centre.
      vertical = VERTICAL[w]!;
      consumed.add(w);
    } else if (w in SIZE) {
      size = SIZE[w]!;
      consumed.add(w);
    } else if (SHADES.has(w) || w in ORDINAL) {
      consumed.add(w);
    }
  });
  if (vertical === "middle" && horizontal === null) horizontal = "centre";
  if (horizontal === "centre" && vertical === null) vertical = "middle";
  return { colours, horizontal, vertical, size, line, consumed };
}

/** True when the reference says anything at all. */
export function hasReference(r: Reference): boolean {
  return r.colours.length > 0 || r.horizontal !== null || r.vertical !== null || r.size !== null || r.line !== null;
}
