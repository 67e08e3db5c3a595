/**
 * Normalised match for short answers. Rules, applied to both the reference and the model's
 * answer (documented in devibench/README.md):
 *  1. Unicode NFKC, lower case, curly quotes and dashes made plain.
 *  2. Thousands separators and currency signs dropped ("$1,250" -> "1250"); a number's trailing
 *     ".0"/".00" dropped ("3.0" -> "3"); number words zero to twenty become digits ("four" -> "4").
 *  3. Spaces around ":" "-" "/" "." inside tokens removed ("3 - 1" -> "3-1", "7:58 PM" ->
 *     "7:58pm" after step 5), other punctuation becomes a space, articles (a, an, the) dropped.
 *  4. Whitespace collapsed.
 *  5. "am"/"pm" joined to the time before them.
 *  6. "gray" spelt "grey", so a colour answer is not wrong for its spelling.
 * Then the answer matches when the normalised strings are equal, or when the answer contains the
 * reference as a whole run of tokens and no other number (so "The gate is K42." matches "K42",
 * but "3 or 4" does not match "3").
 *
 * Multiple choice (DeViBench v1): the answer matches when it names the right letter ("B",
 * "B)", "(B) ...", "Option B") or contains the right option's text.
 */
const NUMBER_WORDS = [
  "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
  "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
];

export function normalizeAnswer(text: string): string {
  let s = text.normalize("NFKC").toLowerCase();
  s = s.replace(/[\u2018\u2019\u201a\u201b]/g, "'").replace(/[\u201c\u201d\u201e]/g, '"').replace(/[\u2010-\u2015\u2212]/g, "-");
  s = s.replace(/(\d),(\d{3})\b/g, "$1$2");
  s = s.replace(/[$€£¥]/g, "");
  s = s.replace(/\s*([:\-/])\s*/g, "$1");
  // A full stop between digits is a decimal point; elsewhere it ends a sentence.
  s = s.replace(/(\d)\.(\d)/g, "$1\u0000$2");
  s = s.replace(/[^\p{L}\p{N}\s:\-/\u0000]/gu, " ");
  s = s.replace(/\u0000/g, ".");
  s = s.replace(/\b(\d+)\.0+\b/g, "$1");
  s = s.replace(/^[-:/]+|[-:/]+$/g, "");
  const tokens = s.split(/\s+/).filter((t) => t !== "" && t !== "a" && t !== "an" && t !== "the");
  const out: string[] = [];
  for (const t of tokens) {
    const n = NUMBER_WORDS.indexOf(t);
    const bare = t.replace(/^[-:/]+|[-:/]+$/g, "");
    const tok = n >= 0 ? String(n) : bare === "gray" ? "grey" : bare;
    if (tok === "") continue;
    if ((tok === "am" || tok === "pm") && out.length > 0 && /\d$/.test(out[out.length - 1]!)) {
      out[out.length - 1] += tok;
    } else {
      out.push(tok);
    }
  }
  return out.join(" ");
}

const isNumberToken = (t: string) => /^\d+([.:]\d+)*(am|pm)?$/.test(t);

export function matchShortAnswer(answer: string, reference: string): boolean {
  const a = normalizeAnswer(answer);
  const r = normalizeAnswer(reference);
  if (r === "") return false;
  if (a === r) return true;
  const at = a.split(" ");
  const rt = r.split(" ");
  for (let i = 0; i + rt.length <= at.length; i++) {
    if (rt.every((t, k) => at[i + k] === t)) {
      // Any other number in the answer makes it ambiguous ("3 or 4").
      const others = [...at.slice(0, i), ...at.slice(i + rt.length)];
      return !others.some(isNumberToken);
    }
  }
  return false;
}

export function matchMultipleChoice(answer: string, letter: string, optionText: string): boolean {
  const a = answer.trim();
  const L = letter.trim().toUpperCase();
  const m = /^\(?\s*(?:option\s+)?([A-Z])\s*(?:[).:\]]|$|\s)/i.exec(a);
  if (m) return m[1]!.toUpperCase() === L;
  const text = optionText.replace(/^\(?[A-Z][).:]\s*/i, "");
  return text.trim() !== "" && normalizeAnswer(a).includes(normalizeAnswer(text));
}
