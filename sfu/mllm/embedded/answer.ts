/**
 * The embedded engine's "reasoning": decide whether a question can be answered by reading text or
 * by the colour of text and what it is printed on, find the text the question means (grounding.ts),
 * and pull the answer out of its OCR lines. Pure (no models), so it is unit-tested directly.
 *
 * The rule is to answer only from text actually read, and read clearly: a question the text cannot
 * settle (counting, actions, places, colours of things that carry no text) gets "cannot answer",
 * and so does a text question whose label is not found, whose referent is not in view or cannot
 * be told from another ("I can read HARBOR and VELVET; which one?"), or whose answer has a
 * character the recogniser was unsure of. A wrong answer that looks confident is worse than none.
 */
import type { NormalizedBox } from "../types.ts";
import { blockColourName, blocksOf, ground, TIE_RATIO, type Block, type Grounding } from "./grounding.ts";
import { readingOrder, toNormalized, union, type PixelBox, type TextLine } from "./geometry.ts";
import { analyzeQuestion, labelWords, type QuestionAnalysis, type ValueType } from "./question.ts";
import { labelPrefixLength, normalizeToken, WORD_MATCH_ONE_EDIT, wordMatch } from "./text-match.ts";

export { analyzeQuestion, extractQuestion, labelWords } from "./question.ts";
export type { QuestionAnalysis, QuestionKind, ValueType } from "./question.ts";

export const NOT_TEXT_ANSWER = "I cannot answer that: the embedded engine only reads text and tells the colour of text and what it is printed on.";

const PATTERNS: Record<Exclude<ValueType, "when">, RegExp> = {
  // "7:58 PM", "19.30", "7 PM"; not the "8 PM" of a "7:5 8 PM" the recogniser split.
  time: /\b\d{1,2}\s?[:.]\s?\d{2}(?:\s?[AaPp]\.?[Mm]\.?)?(?!\d)|(?<![\d:.]\s?)\b\d{1,2}\s?[AaPp]\.?[Mm]\b\.?/,
  score: /\b\d{1,3}\s?[-\u2013\u2014]\s?\d{1,3}\b/,
  // With a currency sign, or a plain amount with cents ("PRICE 12.49").
  price: /[$\u20ac\u00a3\u00a5]\s?\d+(?:[.,]\d{1,2})?|\b\d+(?:[.,]\d{1,2})?\s?(?:[$\u20ac\u00a3\u00a5]|eur|usd|gbp)|\b\d+[.,]\d{2}\b/i,
  number: /[A-Za-z]{0,3}\d[\w-]*/,
  // Day-month-year, month/year ("EXPIRES 06/27"), or a day with a month name.
  date: /\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\b\d{1,2}\/\d{2,4}\b|\b\d{1,2}\s+[A-Za-z]{3,9}\b|\b[A-Za-z]{3,9}\s+\d{1,2}\b/,
};

const VALUE_PATTERNS: Record<ValueType, RegExp> = {
  ...PATTERNS,
  when: new RegExp(`${PATTERNS.time.source}|${PATTERNS.date.source}`, "i"),
};

export interface AnswerOptions {
  /**
   * Every character of an answer must have been read with at least this probability (default
   * 0.8). Blur turns "18D" into "1BD" with one character near 0.6 while the line's mean stays at
   * 0.9, so the mean cannot tell. Measured on rendered signs (8-28 px text, Gaussian blur 0-8 px
   * scaled to the text, 216 questions): threshold 0 gave 157 right / 25 wrong; 0.6: 154 / 12;
   * 0.7: 150 / 5; 0.8: 145 / 0; 0.9: 130 / 0. The rest became "cannot answer". (Chosen on that
   * same set, one font: treat it as a starting point for real camera video.)
   */
  readonly minCharConfidence?: number;
  /** Frame size: when nothing else says which text is meant, text nearer the centre wins. */
  readonly frameWidth?: number;
  readonly frameHeight?: number;
}

const DEFAULT_MIN_CHAR_CONFIDENCE = 0.8;

/** One frame's candidate answer. */
export interface Candidate {
  readonly text: string;
  readonly confidence: number;
  readonly lines: readonly TextLine[];
  /** The block (sign) the answer was read from, in frame pixels. */
  readonly box?: PixelBox;
  /** How clearly grounding told this block from the runner-up (0..1; 1 = the only fit). */
  readonly grounding?: number;
  /** The weakest character over every line of that block (see EngineAnswer.readability). */
  readonly readability?: number;
}

/** Why a frame gave no answer, most telling first. */
export type Miss = "unclear" | "ambiguous" | "no-value" | "no-colour" | "no-label" | "no-text";
const MISS_ORDER: readonly Miss[] = ["unclear", "ambiguous", "no-value", "no-colour", "no-label", "no-text"];

export type FrameAnswer =
  | { readonly answer: Candidate; readonly miss?: undefined }
  | {
    readonly answer: null;
    readonly miss: Miss;
    readonly detail?: string;
    readonly candidates?: readonly string[];
    /** The block the question means, when grounding found it but could not read it well enough. */
    readonly box?: PixelBox;
  };

export interface LineMatch {
  readonly line: TextLine;
  /** 0..1: share of the question's label words found in the line, weighted by match quality. */
  readonly score: number;
  /** Index in `line.text` where the text after the label starts. */
  readonly restStart: number;
}

function tokens(text: string): { text: string; start: number }[] {
  return [...text.matchAll(/\S+/g)].map((m) => ({ text: m[0], start: m.index }));
}

export function matchLine(a: QuestionAnalysis, line: TextLine): LineMatch | null {
  const wanted = labelWords(a);
  if (wanted.length === 0) return null;
  const toks = tokens(line.text);
  const extra = [...a.contentWords, ...a.kindWords];
  let total = 0;
  let first = -1;
  let prefix = 0;
  for (const w of wanted) {
    let best = 0;
    let at = -1;
    let cut = 0;
    toks.forEach((t, i) => {
      let s = wordMatch(w, t.text);
      const token = normalizeToken(t.text);
      const glued = labelPrefixLength(w, token);
      // A token that starts with the whole label and runs on is the label glued to its value,
      // even when it is also one edit from the label: "ZONEC" is "ZONE C", not a slip of "ZONE"
      // (a one-character value after a label of four letters or more: zone, level, platform).
      // A slip keeps the label's length ("GATF"); an English ending is no value ("GATES").
      if (s === WORD_MATCH_ONE_EDIT && glued >= w.length && glued < token.length) s = 0;
      const p = s === 0 ? glued : 0;
      const score = s > 0 ? s : p > 0 ? 0.8 : 0;
      if (score > best) [best, at, cut] = [score, i, p];
    });
    total += best;
    if (at >= 0 && (first < 0 || at < first)) [first, prefix] = [at, cut];
  }
  if (first < 0) return null;
  let restStart: number;
  if (prefix > 0) {
    // Label glued to its value ("GATEK42"): the value starts inside the token.
    const t = toks[first]!;
    restStart = t.start + Math.max(0, t.text.search(/[\p{L}\p{N}]/u)) + prefix;
  } else {
    // The label runs on over tokens that are also question words ("GATE NUMBER K42").
    let end = first;
    while (end + 1 < toks.length && extra.some((w) => wordMatch(w, toks[end + 1]!.text) > 0)) end++;
    restStart = toks[end + 1]?.start ?? line.text.length;
  }
  return { line, score: total / wanted.length, restStart };
}

interface Value {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** The value in `line.text` from `from` on: all of it, or the part of the asked type. */
function valueIn(line: TextLine, from: number, type: ValueType | null): Value | null {
  const lead = /^[\s:#\-=.,]*/.exec(line.text.slice(from))![0].length;
  const start = from + lead;
  const rest = line.text.slice(start).trimEnd();
  if (rest === "") return null;
  if (!type) return { text: rest, start, end: start + rest.length };
  const m = VALUE_PATTERNS[type].exec(rest);
  if (!m) return null;
  let text = m[0].trim();
  // One spelling per time, so "7:58PM" and "7:58 PM" read from two frames vote together.
  if (type === "time") text = text.replace(/\s*([:.])\s*/, "$1").replace(/\s*([AaPp])\.?([Mm])\.?$/, " $1$2").toUpperCase();
  return { text, start: start + m.index, end: start + m.index + m[0].length };
}

/** Lowest probability of a non-space character in line.text[start, end). */
function weakest(line: TextLine, start: number, end: number): number {
  let min = 1;
  for (let i = start; i < end; i++) {
    if (line.text[i] === " ") continue;
    min = Math.min(min, line.charConfidence?.[i] ?? line.confidence);
  }
  return min;
}

type MissAnswer = Extract<FrameAnswer, { answer: null }>;
const miss = (m: Miss, detail?: string, candidates?: readonly string[]): MissAnswer => ({
  answer: null, miss: m, ...(detail !== undefined ? { detail } : {}), ...(candidates && candidates.length > 0 ? { candidates } : {}),
});

/**
 * Texts to offer in a reply, in reading order: for a tie the blocks that tie ("I can read X and Y;
 * which one?"), else the best-ranked few.
 */
function candidateTexts(g: Grounding, max = 3): string[] {
  const top = g.ranked[0]?.score ?? 0;
  const pool = g.kind === "tie" ? g.ranked.filter((r) => r.score >= TIE_RATIO * top) : g.ranked;
  return readingOrder(pool.slice(0, max).map((r) => r.block))
    .map((b) => b.lines.map((l) => l.text).join(" "))
    .filter((t) => t !== "");
}

/** The frame size when the caller did not give it: the extent of the text (enough to compare blocks). */
function frameSize(lines: readonly TextLine[], o: AnswerOptions): { frameWidth: number; frameHeight: number } {
  if (o.frameWidth && o.frameHeight) return { frameWidth: o.frameWidth, frameHeight: o.frameHeight };
  const u = union(lines.map((l) => l.box));
  return { frameWidth: Math.max(1, u.x + u.width), frameHeight: Math.max(1, u.y + u.height) };
}

/** The lines of one block a question's line clue picks ("the second line"), or all of them. */
function pickLines(a: QuestionAnalysis, block: Block): readonly TextLine[] {
  const n = a.reference.line;
  if (n === null) return block.lines;
  const l = n < 0 ? block.lines[block.lines.length + n] : block.lines[n];
  return l ? [l] : block.lines;
}

/** Answers one frame's question from its OCR lines (or says why not). */
export function answerFromLines(a: QuestionAnalysis, lines: readonly TextLine[], o: AnswerOptions = {}): FrameAnswer {
  if (lines.length === 0) return miss("no-text");
  const minChar = o.minCharConfidence ?? DEFAULT_MIN_CHAR_CONFIDENCE;
  const g = ground(a, blocksOf(lines), frameSize(lines, o));
  const grounded = (text: string, confidence: number, ls: readonly TextLine[], block: Block): FrameAnswer => ({
    answer: {
      text, confidence, lines: ls, box: block.box, grounding: g.kind === "pick" ? g.confidence : 0,
      readability: Math.min(1, ...block.lines.map((l) => weakest(l, 0, l.text.length))),
    },
  });
  if (g.kind === "none") return miss(g.why === "no-colour" ? "no-colour" : g.why === "no-text" ? "no-text" : "no-label", undefined, candidateTexts(g));
  if (a.kind === "colour") {
    if (g.kind === "tie") return miss("ambiguous", undefined, candidateTexts(g));
    const named = blockColourName(g.best.block, a.colourOf);
    // Lines without their pixels' colours (a caller that passed only text): nothing to tell.
    if (!named) return miss("no-label");
    return grounded(named.name, 0.5 + 0.5 * named.margin, g.best.block.lines, g.best.block);
  }
  // A tie on label words alone: let the value decide (the first block whose label has a value of
  // the asked kind), as a reader would. A tie on colour, place or size is a real ambiguity.
  const labelOnly = g.kind === "tie" && Object.keys(g.ranked[0]!.parts).every((k) => k === "label");
  if (g.kind === "tie" && !labelOnly) return miss("ambiguous", undefined, candidateTexts(g));
  const chosen = g.kind === "pick" ? [g.best] : g.ranked.filter((r) => r.score >= 0.8 * g.ranked[0]!.score);
  const pool = chosen.flatMap((c) => c.block.lines);
  if (a.mode === "whole") {
    const block = chosen[0]!.block;
    const ls = pickLines(a, block);
    const text = ls.map((l) => l.text).join(" / ");
    if (ls.some((l) => weakest(l, 0, l.text.length) < minChar)) return { ...miss("unclear", text), box: block.box };
    return grounded(text, ls.reduce((s, l) => s + l.confidence, 0) / ls.length, ls, block);
  }
  const matches = pool
    .map((l) => matchLine(a, l))
    .filter((m): m is LineMatch => m !== null)
    .sort((x, y) => y.score - x.score || y.line.confidence - x.line.confidence);
  const blockFor = (l: TextLine) => chosen.find((c) => c.block.lines.includes(l))!.block;
  let why: FrameAnswer | null = null;
  const note = (f: FrameAnswer) => {
    if (!why || MISS_ORDER.indexOf(f.miss!) < MISS_ORDER.indexOf(why.miss!)) why = f;
  };
  for (const m of matches) {
    let source = m.line;
    let value = valueIn(m.line, m.restStart, a.valueType);
    if (!value && valueIn(m.line, m.restStart, null) === null) {
      // A label alone on its line ("GATE" above "K42"): the value is the next line of the sign.
      const block = blockFor(m.line).lines;
      const below = block[block.indexOf(m.line) + 1];
      if (below) [source, value] = [below, valueIn(below, 0, a.valueType)];
    }
    if (!value) {
      const unsure = weakest(m.line, m.restStart, m.line.text.length) < minChar;
      note({ ...miss(unsure ? "unclear" : "no-value", m.line.text), box: blockFor(m.line).box });
      continue;
    }
    if (weakest(source, value.start, value.end) < minChar) {
      note({ ...miss("unclear", source.text), box: blockFor(m.line).box });
      continue;
    }
    const ls = source === m.line ? [m.line] : [m.line, source];
    const conf = (ls.reduce((s, l) => s + l.confidence, 0) / ls.length) * m.score;
    return grounded(value.text, conf, ls, blockFor(m.line));
  }
  if (why) return why;
  // No label in the question ("What is the score?", "What time is on the red sign?"): accept a
  // value of the asked type only when exactly one distinct one is in the chosen text; several
  // would make it a guess.
  if (a.contentWords.length === 0 && a.valueType) {
    const found = new Map<string, { c: Candidate; block: Block }>();
    let unclear: string | undefined;
    for (const l of pool) {
      const v = valueIn(l, 0, a.valueType);
      if (!v) continue;
      if (weakest(l, v.start, v.end) < minChar) unclear = l.text;
      else found.set(voteKey(v.text), { c: { text: v.text, confidence: l.confidence * 0.8, lines: [l] }, block: blockFor(l) });
    }
    if (found.size === 1) {
      const { c, block } = [...found.values()][0]!;
      return grounded(c.text, c.confidence, c.lines, block);
    }
    if (found.size > 1) return miss("ambiguous", undefined, [...found.values()].map((f) => f.c.text));
    if (unclear !== undefined) return miss("unclear", unclear);
  }
  return miss("no-label");
}

function voteKey(text: string): string {
  return text.toUpperCase().replace(/\s+/g, "");
}

/** Combines per-frame answers: the answer read in most frames wins, ties by confidence. */
export function voteAnswers(candidates: readonly (Candidate | null)[]): Candidate | null {
  const tally = new Map<string, { votes: number; best: Candidate }>();
  for (const c of candidates) {
    if (!c) continue;
    const k = voteKey(c.text);
    const t = tally.get(k);
    if (!t) tally.set(k, { votes: 1, best: c });
    else {
      t.votes++;
      if (c.confidence > t.best.confidence) t.best = c;
    }
  }
  let winner: { votes: number; best: Candidate } | undefined;
  for (const t of tally.values()) {
    if (!winner || t.votes > winner.votes || (t.votes === winner.votes && t.best.confidence > winner.best.confidence)) {
      winner = t;
    }
  }
  return winner?.best ?? null;
}

export interface EngineAnswer {
  readonly text: string;
  readonly cannotAnswer: boolean;
  /**
   * Where the answer was read (frame pixels), and how sure (0..1); on a miss, the block the
   * question means when grounding found one (too unclear to read: a region map can sharpen it).
   */
  readonly box?: PixelBox;
  readonly confidence?: number;
  /**
   * How readable the text the answer came from was (0..1): the lowest character probability over
   * every line of the sign (block) the answer was read from, labels and the other lines included,
   * so it falls as the picture blurs before the answer itself turns unsure, and a rate that keeps
   * it up keeps the sign's smallest line readable, not only the line this question was about (a
   * cap walked down on a gate number in large type then missed the opening time in small type). 0 when the text was too unclear to read or none was
   * found (more bits could help); absent when the miss was of another kind (which sign, no such
   * label), which more bits would not fix. The model-need rate cap steers on it (model-need.ts).
   */
  readonly readability?: number;
}

/** "HARBOR and VELVET", "A, B and C". */
function listOf(texts: readonly string[]): string {
  const q = texts.map((t) => t.trim()).filter((t) => t !== "");
  return q.length <= 1 ? (q[0] ?? "") : `${q.slice(0, -1).join(", ")} and ${q[q.length - 1]}`;
}

function describeReference(a: QuestionAnalysis): string {
  const r = a.reference;
  const where = [r.vertical === "middle" && r.horizontal === "centre" ? "in the middle" : "", r.vertical && r.vertical !== "middle" ? `at the ${r.vertical}` : "", r.horizontal && r.horizontal !== "centre" ? `on the ${r.horizontal}` : ""].filter((x) => x).join(" ");
  const colour = r.colours.map((c) => `${c.word}${c.role === "text" ? " text" : ""}`).join(" ");
  return [r.size, colour, "text", where].filter((x) => x).join(" ").replace(" text text", " text");
}

function explain(a: QuestionAnalysis, f: FrameAnswer): string {
  const about = labelWords(a);
  const seen = f.answer === null && f.candidates && f.candidates.length > 0 ? f.candidates : null;
  switch (f.miss) {
    case "no-text":
      return "I cannot answer that: I could not read any text in the video.";
    case "unclear":
      // The unsure reading is not repeated: quoting it would hand over the very guess declined.
      return "I cannot answer that: the text is too unclear to read reliably.";
    case "ambiguous":
      return seen ? `I can read ${listOf(seen)}; which one do you mean?` : "I cannot answer that: I can read several texts and cannot tell which one the question means.";
    case "no-value":
      return `I cannot answer that: I read "${f.detail}" but found no ${a.valueType === "when" ? "time or date" : (a.valueType ?? "value")} in it.`;
    case "no-colour":
      return `I cannot see ${describeReference(a).replace(/^text/, "any such text")}${seen ? `; I can read ${listOf(seen)}` : ""}.`;
    default:
      // A colour question about a thing ("the car"), not about text it shows ("the sign that says
      // EXIT", "the 23:21 sign"): the engine cannot see things.
      if (a.kind === "colour" && !about.some((w) => a.textWords.includes(w))) return NOT_TEXT_ANSWER;
      return about.length > 0
        ? `I cannot answer that: none of the text I can read mentions ${about.map((w) => `"${w}"`).join(" or ")}${seen ? ` (I can read ${listOf(seen)})` : ""}.`
        : "I cannot answer that: the text I can read does not settle the question.";
  }
}

/** Question kinds the engine answers: reading text, and the colour of text or what it is on. */
export function answerable(a: QuestionAnalysis): boolean {
  return a.kind === "read-text" || a.kind === "colour";
}

/** The whole answer step: classify, answer per frame (lines in time order), vote. */
export function answerQuestion(
  question: string,
  framesLines: readonly (readonly TextLine[])[],
  options: AnswerOptions = {},
): EngineAnswer {
  const a = analyzeQuestion(question);
  if (!answerable(a)) return { text: NOT_TEXT_ANSWER, cannotAnswer: true };
  const perFrame = framesLines.map((lines) => answerFromLines(a, lines, options));
  const best = voteAnswers(perFrame.map((f) => f.answer));
  if (best) {
    const conf = Math.min(1, best.confidence) * (best.grounding === undefined ? 1 : 0.5 + 0.5 * best.grounding);
    const readability = best.readability ?? Math.min(1, ...best.lines.map((l) => weakest(l, 0, l.text.length)));
    return { text: best.text, cannotAnswer: false, confidence: conf, readability, ...(best.box ? { box: best.box } : {}) };
  }
  const misses = perFrame.filter((f) => f.miss !== undefined);
  misses.sort((x, y) => MISS_ORDER.indexOf(x.miss!) - MISS_ORDER.indexOf(y.miss!));
  const first = misses[0] ?? miss("no-text");
  const box = first.answer === null ? first.box : undefined;
  const unreadable = first.miss === "unclear" || first.miss === "no-text";
  return { text: explain(a, first), cannotAnswer: true, ...(box ? { box, confidence: 0 } : {}), ...(unreadable ? { readability: 0 } : {}) };
}

/**
 * Text regions ordered by relevance to a question (for importance maps and grounding): the blocks
 * (signs) in grounding order, the block the question means first. `matched` when the question's
 * clues picked one block (a tie, or nothing that fits, leaves every block a candidate). Works for
 * any question kind: "How many people queue at the blue sign?" cannot be answered by OCR, but the
 * blue sign is still where to look.
 */
export function rankRegions(
  question: string,
  lines: readonly TextLine[],
  frameWidth: number,
  frameHeight: number,
): { boxes: NormalizedBox[]; matched: boolean } {
  const a = analyzeQuestion(question);
  const g = ground(a, blocksOf(lines), { frameWidth, frameHeight });
  const top = g.ranked[0]?.score ?? 0;
  const boxes = g.ranked.map((r) => {
    // The picked block scores 1, the others by their fit relative to the best (0.2..0.8).
    const score = g.kind === "pick" && r === g.best ? 1 : top > 0 ? 0.2 + 0.6 * (r.score / top) : 0.2;
    return toNormalized(r.block.box, frameWidth, frameHeight, { label: r.block.lines.map((l) => l.text).join(" / "), score });
  });
  return { boxes, matched: g.kind === "pick" && g.constrained };
}
