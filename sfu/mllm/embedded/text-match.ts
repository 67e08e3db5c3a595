/**
 * Word matching between a question and OCR output, and grouping of read boxes into lines and
 * blocks (one sign = one block). Pure and model-free.
 *
 * OCR makes one-letter mistakes ("GATF" for "GATE") and English words come in forms ("open",
 * "OPENS"); matching therefore compares crude stems and allows one edit in words of 4+ letters.
 */
import { union, verticalOverlap, type PixelBox, type TextLine } from "./geometry.ts";

/** Lower case, with punctuation at the ends removed ("GATE:" -> "gate", "$12.50" -> "12.50"). */
export function normalizeToken(token: string): string {
  return token.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
}

/**
 * Words of a question or line, lower case, punctuation dropped, except inside a token that mixes
 * letters and digits or joins digits ("23:21", "1486-x", "b-17", "12.50" stay whole: they are what a
 * sign shows, and split they match nothing).
 */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/['\u2019]s\b/g, "")
    .split(/[^\p{L}\p{N}:./-]+/u)
    .flatMap((w) => (/\p{N}/u.test(w) ? [w.replace(/^[:./-]+|[:./-]+$/g, "")] : w.split(/[:./-]+/)))
    .filter((w) => w !== "");
}

/**
 * A crude English stem: enough to make "opens", "opening", "opened" and "open" meet, and
 * "closes"/"closing"/"close". Not Porter: we only need forms of the same word to collide.
 */
export function stem(word: string): string {
  let w = word.toLowerCase();
  if (w.length > 4 && w.endsWith("ies")) w = `${w.slice(0, -3)}y`;
  else if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith("ing")) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith("ed")) w = w.slice(0, -2);
  if (w.length > 3 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}

/** True when a and b differ by at most one insertion, deletion or substitution. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1);
  if (a.length > b.length) return a.slice(i + 1) === b.slice(i);
  return a.slice(i) === b.slice(i + 1);
}

/** Digits the recogniser puts for look-alike letters in words ("L0T" for "LOT", "5EAT" for "SEAT"). */
const LOOK_ALIKES: Record<string, string> = { "0": "o", "1": "il", "2": "z", "5": "s", "6": "g", "8": "b" };

/** True when an all-letter question word equals a token whose digits are only such look-alikes. */
export function equalButLookAlikes(questionWord: string, token: string): boolean {
  if (questionWord.length !== token.length || !/^\p{L}+$/u.test(questionWord) || !/\p{L}/u.test(token)) return false;
  for (let i = 0; i < token.length; i++) {
    const q = questionWord[i]!;
    const t = token[i]!;
    if (q !== t && !(LOOK_ALIKES[t] ?? "").includes(q)) return false;
  }
  return true;
}

/** wordMatch's score for a token one OCR slip (an edit) away from the question word. */
export const WORD_MATCH_ONE_EDIT = 0.75;

/** How a question word matches one OCR token, 0 when it does not. */
export function wordMatch(questionWord: string, token: string): number {
  const q = questionWord.toLowerCase();
  const t = normalizeToken(token);
  if (t === "" || q === "") return 0;
  if (q === t) return 1;
  if (equalButLookAlikes(q, t)) return 0.8;
  if (stem(q) === stem(t)) return 0.9;
  // One OCR slip, only in longer words: in 3-letter words one edit turns most words into others.
  if (q.length >= 4 && t.length >= 4 && (withinOneEdit(q, t) || withinOneEdit(stem(q), stem(t)))) return WORD_MATCH_ONE_EDIT;
  return 0;
}

/**
 * Where a question word sits at the start of a token glued to its value ("GATEK42", "OPENS7:58PM",
 * when the recogniser dropped the space): returns how many characters of the token the label takes
 * (with an English ending such as the "S" of "OPENS" when a non-letter follows), or 0.
 */
export function labelPrefixLength(questionWord: string, token: string): number {
  const q = questionWord.toLowerCase();
  const t = token.toLowerCase();
  const base = t.startsWith(q) ? q.length : t.startsWith(stem(q)) && stem(q).length >= 3 ? stem(q).length : 0;
  if (base < 3 || base >= t.length) return 0;
  const ending = /^(s|es|ed|ing)(?![a-z])/.exec(t.slice(base));
  return base + (ending ? ending[0].length : 0);
}

/**
 * Merges boxes that sit side by side on one row into one line (the detector may split a line at a
 * wide gap): same row (70% vertical overlap), similar height, and a gap under one text height.
 * Lines with no text are dropped, unless `keepUnread` (boxes located but not read yet).
 */
export function mergeRows(lines: readonly TextLine[], keepUnread = false): TextLine[] {
  const items = [...lines].filter((l) => keepUnread || l.text !== "").sort((a, b) => a.box.x - b.box.x);
  const used = new Array<boolean>(items.length).fill(false);
  const out: TextLine[] = [];
  for (let i = 0; i < items.length; i++) {
    if (used[i]) continue;
    used[i] = true;
    const parts = [items[i]!];
    let box: PixelBox = items[i]!.box;
    for (let j = i + 1; j < items.length; j++) {
      if (used[j]) continue;
      const b = items[j]!.box;
      const h = Math.max(box.height, b.height);
      const similar = Math.min(box.height, b.height) / h >= 0.6;
      const gap = b.x - (box.x + box.width);
      if (similar && verticalOverlap(box, b) >= 0.7 && gap <= h && gap > -h) {
        used[j] = true;
        parts.push(items[j]!);
        box = union([box, b]);
      }
    }
    if (parts.length === 1) {
      out.push(parts[0]!);
      continue;
    }
    const chars = parts.reduce((s, p) => s + p.text.length, 0);
    const confidence = parts.reduce((s, p) => s + p.confidence * p.text.length, 0) / chars;
    const charConfidence = parts.flatMap((p, k) => [
      ...(k > 0 ? [1] : []),
      ...(p.charConfidence ?? p.text.split("").map(() => p.confidence)),
    ]);
    out.push({ text: parts.map((p) => p.text).join(" "), box, confidence, charConfidence });
  }
  return out;
}

/**
 * Groups lines into blocks (a sign, a caption, a scoreboard): a line joins the block of a line
 * directly above or below it when the vertical gap is under 1.2 line heights, they overlap
 * horizontally, and their heights are within a factor of two; and `together`, when given, agrees
 * (grounding passes "printed on the same colour").
 */
export function groupBlocks(lines: readonly TextLine[], together?: (a: TextLine, b: TextLine) => boolean): TextLine[][] {
  const n = lines.length;
  const parent = lines.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = lines[i]!.box;
      const b = lines[j]!.box;
      const h = Math.max(a.height, b.height);
      if (Math.min(a.height, b.height) * 2 < h) continue;
      const vGap = Math.max(a.y, b.y) - Math.min(a.y + a.height, b.y + b.height);
      const hOverlap = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
      if (vGap <= 1.2 * h && vGap > -0.5 * h && hOverlap > 0 && (!together || together(lines[i]!, lines[j]!))) parent[find(i)] = find(j);
    }
  }
  const groups = new Map<number, TextLine[]>();
  lines.forEach((l, i) => {
    const root = find(i);
    const g = groups.get(root) ?? [];
    g.push(l);
    groups.set(root, g);
  });
  return [...groups.values()].map((g) => g.sort((a, b) => a.box.y - b.box.y || a.box.x - b.box.x));
}
