/**
 * The embedded engine's "reasoning": decide whether a question can be answered by reading text,
 * and if so pull the answer out of OCR lines. Pure (no models), so it is unit-tested directly.
 *
 * The rule is to answer only from text actually read, and read clearly: a question the text cannot
 * settle (colour, counting, actions, places) gets "cannot answer", and so does a text question
 * whose label is not found, or whose answer has a character the recogniser was unsure of. A wrong
 * answer that looks confident is worse than none.
 */
import type { NormalizedBox } from "../types.ts";
import { toNormalized, union, type TextLine } from "./geometry.ts";
import { analyzeQuestion, labelWords, type QuestionAnalysis, type ValueType } from "./question.ts";
import { groupBlocks, labelPrefixLength, normalizeToken, wordMatch } from "./text-match.ts";

export { analyzeQuestion, extractQuestion, labelWords } from "./question.ts";
export type { QuestionAnalysis, QuestionKind, ValueType } from "./question.ts";

export const NOT_TEXT_ANSWER = "I cannot answer that: the embedded engine only reads text.";

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
}

/** Why a frame gave no answer, most telling first. */
export type Miss = "unclear" | "ambiguous" | "no-value" | "no-label" | "no-text";
const MISS_ORDER: readonly Miss[] = ["unclear", "ambiguous", "no-value", "no-label", "no-text"];

export type FrameAnswer =
  | { readonly answer: Candidate; readonly miss?: undefined }
  | { readonly answer: null; readonly miss: Miss; readonly detail?: string };

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
      const s = wordMatch(w, t.text);
      const p = s === 0 ? labelPrefixLength(w, normalizeToken(t.text)) : 0;
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

function blockOf(blocks: readonly TextLine[][], line: TextLine): readonly TextLine[] {
  return blocks.find((b) => b.includes(line)) ?? [line];
}

/** Text area times confidence, times a centre weight (1 at the centre, 0.5 in a corner). */
function prominence(block: readonly TextLine[], o: AnswerOptions): number {
  const area = block.reduce((s, l) => s + l.box.width * l.box.height * l.confidence, 0);
  if (!o.frameWidth || !o.frameHeight) return area;
  const b = union(block.map((l) => l.box));
  const dx = b.x + b.width / 2 - o.frameWidth / 2;
  const dy = b.y + b.height / 2 - o.frameHeight / 2;
  return area * (1 - (0.5 * Math.hypot(dx, dy)) / Math.hypot(o.frameWidth / 2, o.frameHeight / 2));
}

const miss = (m: Miss, detail?: string): FrameAnswer =>
  detail === undefined ? { answer: null, miss: m } : { answer: null, miss: m, detail };

/** Answers one frame's question from its OCR lines (or says why not). */
export function answerFromLines(a: QuestionAnalysis, lines: readonly TextLine[], o: AnswerOptions = {}): FrameAnswer {
  if (lines.length === 0) return miss("no-text");
  const minChar = o.minCharConfidence ?? DEFAULT_MIN_CHAR_CONFIDENCE;
  const blocks = groupBlocks(lines);
  const matches = lines
    .map((l) => matchLine(a, l))
    .filter((m): m is LineMatch => m !== null)
    .sort((x, y) => y.score - x.score || y.line.confidence - x.line.confidence);
  if (a.mode === "whole") {
    let block: readonly TextLine[] | undefined;
    if (matches.length > 0) block = blockOf(blocks, matches[0]!.line);
    else if (a.contentWords.length > 0 && blocks.length > 1) return miss("no-label");
    else {
      // "What does the sign say?" with several texts in view: the most prominent one, if it stands out.
      const ranked = blocks.map((b) => ({ b, p: prominence(b, o) })).sort((x, y) => y.p - x.p);
      if (ranked.length > 1 && ranked[0]!.p < 1.25 * ranked[1]!.p) return miss("ambiguous");
      block = ranked[0]!.b;
    }
    const text = block.map((l) => l.text).join(" / ");
    if (block.some((l) => weakest(l, 0, l.text.length) < minChar)) return miss("unclear", text);
    const conf = block.reduce((s, l) => s + l.confidence, 0) / block.length;
    return { answer: { text, confidence: conf, lines: block } };
  }
  let why: FrameAnswer | null = null;
  const note = (f: FrameAnswer) => {
    if (!why || MISS_ORDER.indexOf(f.miss!) < MISS_ORDER.indexOf(why.miss!)) why = f;
  };
  for (const m of matches) {
    let source = m.line;
    let value = valueIn(m.line, m.restStart, a.valueType);
    if (!value && valueIn(m.line, m.restStart, null) === null) {
      // A label alone on its line ("GATE" above "K42"): the value is the next line of the sign.
      const block = blockOf(blocks, m.line);
      const below = block[block.indexOf(m.line) + 1];
      if (below) [source, value] = [below, valueIn(below, 0, a.valueType)];
    }
    if (!value) {
      const unsure = weakest(m.line, m.restStart, m.line.text.length) < minChar;
      note(miss(unsure ? "unclear" : "no-value", m.line.text));
      continue;
    }
    if (weakest(source, value.start, value.end) < minChar) {
      note(miss("unclear", source.text));
      continue;
    }
    const lines = source === m.line ? [m.line] : [m.line, source];
    const conf = (lines.reduce((s, l) => s + l.confidence, 0) / lines.length) * m.score;
    return { answer: { text: value.text, confidence: conf, lines } };
  }
  if (why) return why;
  // No label in the question ("What is the score?"): accept a value of the asked type only when
  // exactly one distinct one is in view; several would make it a guess.
  if (a.contentWords.length === 0 && a.valueType) {
    const found = new Map<string, Candidate>();
    let unclear: string | undefined;
    for (const l of lines) {
      const v = valueIn(l, 0, a.valueType);
      if (!v) continue;
      if (weakest(l, v.start, v.end) < minChar) unclear = l.text;
      else found.set(voteKey(v.text), { text: v.text, confidence: l.confidence * 0.8, lines: [l] });
    }
    if (found.size === 1) return { answer: [...found.values()][0]! };
    if (found.size > 1) return miss("ambiguous");
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
}

function explain(a: QuestionAnalysis, f: FrameAnswer): string {
  const about = labelWords(a);
  switch (f.miss) {
    case "no-text":
      return "I cannot answer that: I could not read any text in the video.";
    case "unclear":
      // The unsure reading is not repeated: quoting it would hand over the very guess declined.
      return "I cannot answer that: the text is too unclear to read reliably.";
    case "ambiguous":
      return "I cannot answer that: I can read several texts and cannot tell which one the question means.";
    case "no-value":
      return `I cannot answer that: I read "${f.detail}" but found no ${a.valueType === "when" ? "time or date" : (a.valueType ?? "value")} in it.`;
    default:
      return about.length > 0
        ? `I cannot answer that: none of the text I can read mentions ${about.map((w) => `"${w}"`).join(" or ")}.`
        : "I cannot answer that: the text I can read does not settle the question.";
  }
}

/** The whole answer step: classify, answer per frame (lines in time order), vote. */
export function answerQuestion(
  question: string,
  framesLines: readonly (readonly TextLine[])[],
  options: AnswerOptions = {},
): EngineAnswer {
  const a = analyzeQuestion(question);
  if (a.kind !== "read-text") return { text: NOT_TEXT_ANSWER, cannotAnswer: true };
  const perFrame = framesLines.map((lines) => answerFromLines(a, lines, options));
  const best = voteAnswers(perFrame.map((f) => f.answer));
  if (best) return { text: best.text, cannotAnswer: false };
  const misses = perFrame.filter((f) => f.miss !== undefined);
  misses.sort((x, y) => MISS_ORDER.indexOf(x.miss!) - MISS_ORDER.indexOf(y.miss!));
  return { text: explain(a, misses[0] ?? miss("no-text")), cannotAnswer: true };
}

/**
 * Text regions ordered by relevance to a question (for importance maps and grounding): first the
 * whole block (sign) holding the best-matching line, then matching lines, then the other lines of
 * matching blocks, then all other text. Works for any question kind: "What colour is the gate
 * sign?" cannot be answered by OCR, but the sign that says GATE is still where to look.
 */
export function rankRegions(
  question: string,
  lines: readonly TextLine[],
  frameWidth: number,
  frameHeight: number,
): { boxes: NormalizedBox[]; matched: boolean } {
  const a = analyzeQuestion(question);
  const blocks = groupBlocks(lines);
  const scored = lines.map((line) => ({ line, m: matchLine(a, line) }));
  const matched = scored.filter((s) => s.m !== null).sort((x, y) => y.m!.score - x.m!.score);
  const hot = new Set(matched.flatMap((s) => blockOf(blocks, s.line)));
  const weight = (l: TextLine, m: LineMatch | null) =>
    m ? 0.5 + 0.5 * m.score * l.confidence : hot.has(l) ? 0.4 : 0.2 * l.confidence;
  const entries = scored
    .map((s) => ({ line: s.line, score: weight(s.line, s.m) }))
    .sort((x, y) => y.score - x.score || x.line.box.y - y.line.box.y);
  const boxes = entries.map((e) => toNormalized(e.line.box, frameWidth, frameHeight, { label: e.line.text, score: e.score }));
  const top = matched[0];
  if (top) {
    const block = blockOf(blocks, top.line);
    if (block.length > 1) {
      const label = block.map((l) => l.text).join(" / ");
      boxes.unshift(toNormalized(union(block.map((l) => l.box)), frameWidth, frameHeight, { label, score: weight(top.line, top.m) }));
    }
  }
  return { boxes, matched: matched.length > 0 };
}
