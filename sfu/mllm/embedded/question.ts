/**
 * Question classification for the embedded engine: can reading text answer this, and if so, which
 * words on the picture would label the answer. Pure; see answer.ts for how the answer is read.
 */
import { parseReference, TEXT_WORDS, type Reference } from "./reference.ts";
import { words } from "./text-match.ts";

export type QuestionKind = "read-text" | "colour" | "counting" | "action" | "spatial" | "other";
/** "when" takes a time or a date ("When does it open?" / "When does it expire?"). */
export type ValueType = "time" | "score" | "price" | "number" | "date" | "when";

export interface QuestionAnalysis {
  readonly kind: QuestionKind;
  /** "whole": the question asks for all the text of a sign ("What does the sign say?"). */
  readonly mode: "value" | "whole";
  /** Words that may be a label on the picture ("gate", "open", "seat"). */
  readonly contentWords: readonly string[];
  /** Words naming the kind of value asked for ("number", "time", "score"); may also be labels. */
  readonly kindWords: readonly string[];
  readonly valueType: ValueType | null;
  /** How the question points at the text it means (colour, position, size, line); reference.ts. */
  readonly reference: Reference;
  /** For a colour question: the colour of what the text is on (a sign), or of the text itself. */
  readonly colourOf: "surface" | "text";
  /**
   * Words that quote text on the picture rather than name a thing: written in capitals in a
   * mixed-case question ("the EXIT sign"), quoted, or holding a digit ("23:21", "B17"); lower case.
   */
  readonly textWords: readonly string[];
}

const STOP = new Set(
  ("a an the is are was were be been am do does did of on in at to for from by with and or it its this that these " +
    "those there here what which who whom whose when where why how please tell me you your i we they he she his her " +
    "their our can could would should will shall may might must has have had about into onto over as than then so " +
    "just also any some all according off out upon").split(" "),
);
/** Words that say where or how text appears, never what it says. */
const GENERIC = new Set(
  ("sign signs signboard label labels board scoreboard screen screens display displayed displays shown show shows " +
    "showing written write writes printed print visible appear appears appearing say says said saying read reads " +
    "reading text texts word words writing tag tags poster banner plate sticker note card page paper panel monitor tv " +
    "notice video image picture frame clip mentioned indicated indicates indicate listed given stated seen see " +
    "message caption title value team current currently colour color colours colors coloured colored " +
    "here thing object something anything").split(" "),
);
const KIND: Record<string, ValueType | null> = {
  number: "number", num: "number", code: "number", id: "number",
  time: "time", clock: "time",
  score: "score", result: "score",
  price: "price", cost: "price", costs: "price", amount: "price", total: "price", fare: "price", fee: "price",
  date: "date",
  name: null,
};

const COLOUR = /\b(what|which)\s+colou?rs?\b|\bcolou?rs?\s+(is|are|was|were|of)\b|\bis\s+it\s+(red|green|blue|yellow|black|white|orange|purple|pink|brown|gr[ae]y)\b/;
const HOW_MUCH_PRICE = /\bhow much\b.*\b(cost|costs|price|pay|charge|fare|fee)\b/;
const COUNTING = /\bhow many\b|\bhow much\b|\bcount\b|\bnumber of (?!the\b|this\b|that\b)/;
const STRONG_READ = /\b(say|says|said|saying|written|write|writes|read|reads|spell|spells|spelled|printed)\b/;
const ACTION = /\b(doing|happening|happened|happens|holding|wearing|moving|walking|running|playing|going on|action|why)\b/;
const SPATIAL = /^\s*where\b|\b(left of|right of|behind|in front of|next to|beside|between|on top of|position|located)\b/;
const TEXT_OBJECT = /\b(sign|signs|label|scoreboard|board|tag|screen|display|poster|banner|plate|caption|title|menu|ticket|text|word|words|writing)\b/;
const WHOLE = /\bwhat\s+(does|do|did)\b.*\b(say|says|read|reads)\b|\bwhat\s+(is|was|are)\s+(written|printed|shown|displayed)\b|\bwhat\s+(text|words?|message)\b|^\s*read\b/;

/** Words naming a thing text is on: a content word right before one only says which thing. */
const OBJECT_WORDS = new Set(["sign", "signs", "label", "labels", "board", "boards", "panel", "card", "poster", "banner", "plate", "screen", "display", "tag", "note", "sticker", "menu", "ticket", "text", "letters", "writing"]);

/** True when the word at `i` (and any content words after it) run into an object word ("no smoking sign"). */
function namesAnObject(all: readonly string[], i: number, content: ReadonlySet<string>): boolean {
  let j = i + 1;
  while (j < all.length && content.has(all[j]!)) j++;
  return j < all.length && OBJECT_WORDS.has(all[j]!);
}

/** The question in a prompt: the text after a line "Question:" (DeViBench's template), else all of it. */
export function extractQuestion(prompt: string): string {
  const m = /(?:^|\n)\s*Question:\s*\n?([\s\S]*)$/i.exec(prompt);
  return (m ? m[1]! : prompt).trim();
}

export function analyzeQuestion(question: string): QuestionAnalysis {
  // "what's" -> "what is", so one pattern covers both ("What's written on the red sign?").
  const q = question.toLowerCase().replace(/\b(what|where|which|who|that|it)['\u2019]s\b/g, "$1 is").replace(/\s+/g, " ").trim();
  const all = words(q);
  const reference = parseReference(q, all);
  const kindWords = all.filter((w) => w in KIND);
  const contentWords = all.filter((w) => !STOP.has(w) && !GENERIC.has(w) && !(w in KIND) && !reference.consumed.has(w) && !TEXT_WORDS.has(w));
  let valueType: ValueType | null = null;
  for (const w of kindWords) valueType ??= KIND[w] ?? null;
  if (/^\s*when\b/.test(q)) valueType ??= "when";
  // Nothing to look for after a label and no kind of value: the question wants the whole text
  // ("What's on the blue sign?").
  // A label word that names what to read ("Read the seat on the sign") asks for its value; one
  // that only says which sign ("What does the no smoking sign say?") leaves the whole sign asked.
  const headLabel = contentWords.some((w) => !namesAnObject(all, all.indexOf(w), new Set(contentWords)));
  const mode: "value" | "whole" = (WHOLE.test(q) && kindWords.length === 0 && !headLabel) || (contentWords.length === 0 && valueType === null) ? "whole" : "value";
  const colourOf: "surface" | "text" = all.some((w) => TEXT_WORDS.has(w)) || /\b(written|printed)\s+in\b/.test(q) ? "text" : "surface";
  const quoted = [...question.matchAll(/["\u201c\u2018']([^"\u201d\u2019']{1,80})["\u201d\u2019']/g)].flatMap((m) => words(m[1]!));
  const shouted = /[a-z]/.test(question) ? [...question.matchAll(/\b[A-Z][A-Z0-9:./-]+\b/g)].flatMap((m) => words(m[0])) : [];
  const textWords = [...new Set([...quoted, ...shouted, ...all.filter((w) => /\p{N}/u.test(w))])];
  const base = { contentWords, kindWords, valueType, mode, reference, colourOf, textWords };
  const not = (kind: QuestionKind): QuestionAnalysis => ({ ...base, kind });
  if (COLOUR.test(q)) return not("colour");
  if (HOW_MUCH_PRICE.test(q)) return { ...base, kind: "read-text", mode: "value", valueType: "price" };
  if (COUNTING.test(q)) return not("counting");
  if (STRONG_READ.test(q)) return { ...base, kind: "read-text" };
  if (ACTION.test(q)) return not("action");
  if (SPATIAL.test(q)) return not("spatial");
  if (kindWords.length > 0 || TEXT_OBJECT.test(q) || mode === "whole" || /^\s*when\b/.test(q)) {
    return { ...base, kind: "read-text" };
  }
  // "Which gate ...?", "What seat ...?": worth a look, but only a label actually read can answer it.
  if (/^\s*(what|which)\s+(?!is\b|are\b|was\b|were\b|does\b|do\b|did\b)\w+/.test(q) && contentWords.length > 0) {
    return { ...base, kind: "read-text" };
  }
  return not("other");
}

/** Words to look for: content words, or the kind words when there are none ("What is the score?"). */
export function labelWords(a: QuestionAnalysis): readonly string[] {
  return a.contentWords.length > 0 ? a.contentWords : a.kindWords;
}
