/**
 * Questions about a clip's target, in the ways people ask them. Each question belongs to a
 * phrasing family (how it points at the text) and is drawn from several templates of that family
 * (different wordings, "colour" and "color", with and without "please", not always ending in "?").
 * The caller says which families the layout makes unambiguous (layout.ts); this file only words
 * them.
 *
 *   label      a label word the sign shows: "What gate number is shown on the sign?"
 *   colour     the colour of the panel or of the letters: "What does the red sign say?"
 *   position   where it is: "What is written at the top right?"
 *   size       the biggest or smallest text: "Read the large text."
 *   bare       nothing but "it": "What does it say?"
 *   colour-of  the colour itself: "What colour is the sign that says HARBOR?" -> "blue"
 *
 * On a one-line target the answer to colour/position/size/bare is its whole text; on a three-line
 * target those families also name a label ("What gate number is on the blue sign?").
 */
import { pick, type Rng } from "../../../encoder/synth/prng.ts";
import type { Direction } from "./layout.ts";
import type { Paint } from "./palette.ts";
import type { LabelLine, TargetText } from "./vocabulary.ts";

export const TEXT_TASK = "Text-Rich Understanding";
export const ATTRIBUTE_TASK = "Attribute Perception";
export const COUNTING_TASK = "Counting";

export const FAMILIES = ["label", "colour", "position", "size", "bare", "colour-of", "square-colour", "count"] as const;
export type Family = (typeof FAMILIES)[number];

export const FAMILY_TASK: Readonly<Record<Family, string>> = {
  label: TEXT_TASK, colour: TEXT_TASK, position: TEXT_TASK, size: TEXT_TASK, bare: TEXT_TASK,
  "colour-of": ATTRIBUTE_TASK, "square-colour": ATTRIBUTE_TASK, count: COUNTING_TASK,
};

export interface Asked {
  readonly family: Family;
  readonly question: string;
  readonly answer: string;
  readonly taskType: string;
}

/** What the layout allows about the target. */
export interface TargetFacts {
  readonly text: TargetText;
  readonly panel: Paint;
  readonly ink: Paint;
  /** Coloured letters on a white panel (then "the red letters" names it). */
  readonly colouredInk: boolean;
  readonly directions: readonly Direction[];
  readonly size: "big" | "small" | null;
  readonly bare: boolean;
}

const LABEL = [
  "What {noun} is shown on the {obj}?",
  "Which {noun} is written on the {obj}?",
  "What is the {noun} on the {obj}?",
  "Read the {noun} on the {obj}, please.",
  "Tell me the {noun} from the {obj}",
  "What's the {noun} on the {obj}?",
];

const COLOUR_PANEL = [
  "What is written on the {c} {obj}?",
  "What does the {c} {obj} say?",
  "Read the {c} {obj}.",
  "What word is on the {c} {obj}?",
  "What's on the {c} {obj}, please?",
  "Tell me what the {c} {obj} says",
  "Please read the {c} {obj}",
];

const COLOUR_INK = [
  "What's written in {c} letters?",
  "What does the {c} text say?",
  "Read the {c} text.",
  "What is written in {c}?",
  "Please read the {c} letters",
  "What do the {c} letters say",
];

const COLOUR_LABEL = [
  "What {noun} is on the {c} {obj}?",
  "What is the {noun} on the {c} {obj}?",
  "Read the {noun} off the {c} {obj}, please.",
  "Tell me the {noun} shown on the {c} {obj}",
  "Which {noun} does the {c} {obj} show?",
];

const COLOUR_INK_LABEL = [
  "What {noun} is written in {c} letters?",
  "What is the {noun} in {c} text?",
  "Read the {noun} printed in {c}, please.",
  "Tell me the {noun} written in {c}",
  "Which {noun} do the {c} letters show?",
];

const POSITION = [
  "What does the sign {where} say?",
  "What is written {where}?",
  "Read the text {where}.",
  "What's on the sign {where}, please?",
  "Tell me what it says {where}",
  "What word is {where}?",
  "Please read the sign {where}",
];

const POSITION_LABEL = [
  "What {noun} is on the {obj} {where}?",
  "What is the {noun} on the {obj} {where}?",
  "Read the {noun} on the {obj} {where}, please.",
  "Tell me the {noun} shown {where}",
  "Which {noun} does the {obj} {where} show?",
];

const SIZE = [
  "What does the {big} sign say?",
  "What is written on the {big} sign?",
  "Read the {big} text.",
  "What's on the {big} panel, please?",
  "Tell me what the {big} letters say",
  "Please read the {big} sign",
];

const SIZE_LABEL = [
  "What {noun} is on the {big} {obj}?",
  "What is the {noun} on the {big} {obj}?",
  "Read the {noun} from the {big} {obj}, please.",
  "Tell me the {noun} on the {big} {obj}",
  "Which {noun} does the {big} {obj} show?",
];

const BARE = [
  "What does it say?",
  "Read this.",
  "What is written here?",
  "What's written there, please?",
  "Can you read the text for me?",
  "What does the sign say",
  "Please read what it says",
];

const PANEL_COLOUR_OF = [
  "What colour is {ref}?",
  "What color is {ref}?",
  "Which colour is {ref}, please?",
  "Tell me the color of {ref}",
  "What is the colour of {ref}",
];

const INK_COLOUR_OF = [
  "What colour are the letters on {ref}?",
  "What color is the text on {ref}?",
  "What colour is the writing on {ref}, please?",
  "Tell me the color of the letters on {ref}",
  "Which colour is the text of {ref}",
];

const WHERE: Readonly<Record<Direction, readonly string[]>> = {
  left: ["on the left", "on the left side"],
  right: ["on the right", "on the right side"],
  top: ["at the top"],
  bottom: ["at the bottom"],
  "top left": ["at the top left", "in the top left corner"],
  "top right": ["at the top right", "in the top right corner"],
  "bottom left": ["at the bottom left", "in the bottom left corner"],
  "bottom right": ["at the bottom right", "in the bottom right corner"],
  middle: ["in the middle", "in the centre", "in the center"],
};

const BIG = ["big", "large", "biggest", "largest"];
const SMALL = ["smallest", "small", "tiniest", "little"];
const OBJECTS = ["sign", "board", "panel", "label", "sign", "card"];

export function allTemplates(): Readonly<Record<string, readonly string[]>> {
  return { LABEL, COLOUR_PANEL, COLOUR_INK, COLOUR_LABEL, COLOUR_INK_LABEL, POSITION, POSITION_LABEL, SIZE, SIZE_LABEL, BARE, PANEL_COLOUR_OF, INK_COLOUR_OF };
}

function fill(template: string, vars: Record<string, string>): string {
  const s = template.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new Error(`question template "${template}" needs {${k}}`);
    return v;
  });
  return s[0]!.toUpperCase() + s.slice(1);
}

/** A template that fits the answer: "What word is ..." only for a one-word answer. */
function template(rng: Rng, list: readonly string[], answer: string): string {
  const oneWord = !/\s/.test(answer.trim());
  return pick(rng, list.filter((t) => oneWord || !/\bword\b/.test(t)));
}

/**
 * The target's questions, one per family the layout allows (two label questions and sometimes two
 * colour ones): text families first, then colour-of. `lineSeed` picks which label lines are asked.
 */
export function askAbout(rng: Rng, f: TargetFacts, lineSeed: number): Asked[] {
  const t = f.text;
  const multi = t.lines.length > 1;
  const whole = t.lines[0]!;
  const obj = multi ? t.noun : pick(rng, OBJECTS);
  const out: Asked[] = [];
  const text = (family: Family, question: string, answer: string) => out.push({ family, question, answer, taskType: TEXT_TASK });
  // Three-line targets: two lines for the label family (as the first set asked), the third for
  // the families that also point at the sign; one-line targets: their one label, if any.
  const labelLines: LabelLine[] = multi ? t.labels.filter((_, k) => k !== lineSeed % t.labels.length) : [...t.labels];
  const spare: LabelLine | undefined = multi ? t.labels[lineSeed % t.labels.length] : undefined;
  const someLine = () => (spare && rng() < 0.5 ? spare : pick(rng, t.labels));
  for (const l of labelLines) text("label", fill(template(rng, LABEL, l.answer), { noun: l.noun, obj: t.noun }), l.answer);

  if (multi) {
    const l = spare!;
    const ink = f.colouredInk && rng() < 0.5;
    const list = ink ? COLOUR_INK_LABEL : COLOUR_LABEL;
    text("colour", fill(template(rng, list, l.answer), { noun: l.noun, obj, c: (ink ? f.ink : f.panel).name }), l.answer);
  } else {
    text("colour", fill(template(rng, COLOUR_PANEL, whole), { c: f.panel.name, obj }), whole);
    if (f.colouredInk) text("colour", fill(template(rng, COLOUR_INK, whole), { c: f.ink.name }), whole);
    // "GATE B17": also the colour with the label ("What gate number is on the blue sign?").
    for (const l of t.labels) text("colour", fill(template(rng, COLOUR_LABEL, l.answer), { noun: l.noun, obj, c: f.panel.name }), l.answer);
  }

  const direction = f.directions.length > 0 ? pick(rng, f.directions) : null;
  const where = direction === null ? null : pick(rng, WHERE[direction]);
  if (where !== null) {
    if (multi) {
      const l = someLine();
      text("position", fill(template(rng, POSITION_LABEL, l.answer), { noun: l.noun, obj, where }), l.answer);
    } else {
      text("position", fill(template(rng, POSITION, whole), { where }), whole);
    }
  }
  const big = f.size === null ? null : pick(rng, f.size === "big" ? BIG : SMALL);
  if (big !== null) {
    if (multi) {
      const l = someLine();
      // "the largest scoreboard" would suggest more than one: size compares signs.
      text("size", fill(template(rng, SIZE_LABEL, l.answer), { noun: l.noun, obj: pick(rng, ["sign", "board", "panel"]), big }), l.answer);
    } else {
      text("size", fill(template(rng, SIZE, whole), { big }), whole);
    }
  }
  if (f.bare && !multi) text("bare", pick(rng, BARE), whole);

  // Colour of the panel, or of the letters (always when they are coloured, else now and then).
  const ofInk = f.colouredInk ? rng() < 0.6 : rng() < 0.25;
  const refs = [`the sign that says ${whole}`, `the ${whole} sign`, `the sign reading ${whole}`, `the ${obj} with ${whole} on it`];
  if (where !== null) refs.push(`the sign ${where}`, `the ${obj} ${where}`);
  if (big !== null) refs.push(`the ${big} sign`);
  const ref = pick(rng, refs);
  out.push({
    family: "colour-of",
    question: fill(pick(rng, ofInk ? INK_COLOUR_OF : PANEL_COLOUR_OF), { ref }),
    answer: (ofInk ? f.ink : f.panel).name,
    taskType: ATTRIBUTE_TASK,
  });
  return out;
}
