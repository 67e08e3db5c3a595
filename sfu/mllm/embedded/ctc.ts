/**
 * CTC decoding for the recogniser's output (Graves et al., "Connectionist Temporal Classification",
 * ICML 2006; used for scene text by CRNN, Shi et al., TPAMI 2016): take the best class per step,
 * merge repeats, drop blanks, as PaddleOCR's CTCLabelDecode. Pure, so it is tested without models.
 */

export interface Decoded {
  readonly text: string;
  readonly confidence: number;
  /** Probability of each UTF-16 unit of `text` (1 for a space we put back). */
  readonly charConfidence: number[];
}

/**
 * Probability of the space class in a gap above which we write a space (see ctcGreedyDecode).
 * Measured on DejaVu Sans signs at 12-26 px: real word gaps peaked at 0.012-0.46, gaps inside
 * words at most 0.0064.
 */
const SPACE_HINT = 0.01;
const DIGIT_SPACE_HINT = 0.1;

/**
 * Greedy CTC decoding of one sequence of per-step class probabilities (`steps` x `classes`, row-major,
 * starting at `offset`). Class 0 is the blank. Confidence is the mean probability of the kept
 * characters (the first step of each run), as PaddleOCR's CTCLabelDecode reports it.
 *
 * With `restoreSpaces` (our addition, not PaddleOCR's): the Chinese+English PP-OCRv4 model often
 * drops the space between Latin words ("OPENS7:58PM"), but the space class still gets some
 * probability (>= 1%) in the blank steps between the two words, and almost none inside a word. We
 * tried the width of the blank gap as well: it misfires next to wide letters ("Platfor m"), so only
 * the probability counts. Only between Latin characters: Chinese is written without spaces.
 */
export function ctcGreedyDecode(
  probs: Float32Array,
  offset: number,
  steps: number,
  classes: number,
  charset: readonly string[],
  restoreSpaces = true,
): Decoded {
  const spaceClass = charset[classes - 1] === " " ? classes - 1 : -1;
  const kept: { c: number; p: number; start: number; end: number }[] = [];
  const spaceP = new Float32Array(steps);
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = probs[base]!;
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (spaceClass >= 0) spaceP[t] = probs[base + spaceClass]!;
    if (best !== 0 && best === prev) kept[kept.length - 1]!.end = t;
    else if (best !== 0) kept.push({ c: best, p: bestP, start: t, end: t });
    prev = best;
  }
  const latin = (c: number) => c !== spaceClass && (charset[c] ?? "").charCodeAt(0) < 0x3000;
  let text = "";
  const charConfidence: number[] = [];
  const append = (chars: string, p: number) => {
    for (const ch of chars) {
      // No leading or doubled spaces: the text is normalised as it is built, so the per-character
      // probabilities stay aligned with it.
      if (/\s/.test(ch) && (text === "" || text.endsWith(" "))) continue;
      text += /\s/.test(ch) ? " " : ch;
      for (let u = 0; u < ch.length; u++) charConfidence.push(p);
    }
  };
  let sum = 0;
  for (let i = 0; i < kept.length; i++) {
    const k = kept[i]!;
    const next = kept[i + 1];
    append(charset[k.c] ?? "", k.p);
    sum += k.p;
    if (!restoreSpaces || !next || !latin(k.c) || !latin(next.c)) continue;
    let hint = 0;
    for (let t = k.end + 1; t < next.start; t++) hint = Math.max(hint, spaceP[t]!);
    // Between two digits a space is rare and a false one splits a value ("7:5 8 PM"): ask more.
    const digits = /\d/.test(charset[k.c] ?? "") && /\d/.test(charset[next.c] ?? "");
    if (hint >= (digits ? DIGIT_SPACE_HINT : SPACE_HINT)) append(" ", 1);
  }
  if (text.endsWith(" ")) {
    text = text.slice(0, -1);
    charConfidence.pop();
  }
  return { text, confidence: kept.length > 0 ? sum / kept.length : 0, charConfidence };
}
