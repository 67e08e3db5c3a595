/**
 * What the synthetic signs say: place names, common nouns, codes and times for one-line signs;
 * "GATE B17"-style lines with a label word; and today's three-line targets (gate sign, product
 * label, scoreboard, price tag) whose every line is a label and a value. A one-line text carries at
 * most one number, so a scorer that accepts "the answer contains the reference and no other
 * number" is not confused by the reference itself.
 */
import { pick, randInt, type Rng } from "../../../encoder/synth/prng.ts";

/** A value on a line after a label word, and how a question names it ("gate number"). */
export interface LabelLine {
  readonly label: string;
  readonly noun: string;
  readonly answer: string;
}

export interface TargetText {
  /** Kind of text object, for the manifest ("sign", "label", "place", "code", ...). */
  readonly kind: string;
  readonly lines: readonly string[];
  /** What questions call the object ("sign", "label", "scoreboard", "tag"). */
  readonly noun: string;
  /** Lines that a label question can ask about (one per line that has a label word). */
  readonly labels: readonly LabelLine[];
}

const LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ";
const letter = (rng: Rng) => LETTERS[randInt(rng, 0, LETTERS.length - 1)]!;
const pad2 = (n: number) => String(n).padStart(2, "0");
const clock12 = (rng: Rng) => `${randInt(rng, 1, 12)}:${pad2(randInt(rng, 0, 59))} ${pick(rng, ["AM", "PM"])}`;

/** Three-line targets as in the first synthetic set: every answer on its own line after a label. */
const MULTI_LINE: ReadonlyArray<(rng: Rng) => TargetText> = [
  (rng) => {
    const gate = `${letter(rng)}${randInt(rng, 2, 98)}`;
    const time = clock12(rng);
    const seat = `${randInt(rng, 1, 40)}${pick(rng, ["A", "B", "C", "D"])}`;
    return {
      kind: "sign", noun: "sign", lines: [`GATE ${gate}`, `OPENS ${time}`, `SEAT ${seat}`],
      labels: [{ label: "GATE", noun: "gate number", answer: gate }, { label: "OPENS", noun: "opening time", answer: time }, { label: "SEAT", noun: "seat", answer: seat }],
    };
  },
  (rng) => {
    const lot = `${randInt(rng, 1000, 9999)}-${letter(rng)}`;
    const exp = `${pad2(randInt(rng, 1, 12))}/${pad2(randInt(rng, 26, 35))}`;
    const net = `${randInt(rng, 1, 9) * 50} G`;
    return {
      kind: "label", noun: "label", lines: [`LOT ${lot}`, `EXPIRES ${exp}`, `NET ${net}`],
      labels: [{ label: "LOT", noun: "lot number", answer: lot }, { label: "EXPIRES", noun: "expiry date", answer: exp }, { label: "NET", noun: "net weight", answer: net }],
    };
  },
  (rng) => {
    const teams = ["LIONS", "BEARS", "HAWKS", "WOLVES", "SHARKS", "TIGERS"];
    const a = pick(rng, teams);
    const b = pick(rng, teams.filter((t) => t !== a));
    const score = `${randInt(rng, 0, 9)} - ${randInt(rng, 0, 9)}`;
    const clock = `${randInt(rng, 1, 44)}:${pad2(randInt(rng, 0, 59))}`;
    const period = String(randInt(rng, 1, 4));
    return {
      kind: "scoreboard", noun: "scoreboard", lines: [`${a} ${score} ${b}`, `TIME ${clock}`, `PERIOD ${period}`],
      labels: [{ label: a, noun: "score", answer: score }, { label: "TIME", noun: "clock time", answer: clock }, { label: "PERIOD", noun: "period", answer: period }],
    };
  },
  (rng) => {
    const price = `${randInt(rng, 1, 99)}.${pad2(randInt(rng, 0, 99))}`;
    const item = String(randInt(rng, 10000, 99999));
    const aisle = `${randInt(rng, 1, 30)}${letter(rng)}`;
    return {
      kind: "price tag", noun: "tag", lines: [`PRICE ${price}`, `ITEM ${item}`, `AISLE ${aisle}`],
      labels: [{ label: "PRICE", noun: "price", answer: price }, { label: "ITEM", noun: "item number", answer: item }, { label: "AISLE", noun: "aisle", answer: aisle }],
    };
  },
];

export const MULTI_LINE_KINDS = MULTI_LINE.length;

export function multiLineTarget(rng: Rng, which: number): TargetText {
  return MULTI_LINE[which % MULTI_LINE.length]!(rng);
}

/** One-line label forms: "GATE B17", "PLATFORM 4". */
const LABEL_FORMS: ReadonlyArray<{ label: string; noun: string; value: (rng: Rng) => string }> = [
  { label: "GATE", noun: "gate number", value: (rng) => `${letter(rng)}${randInt(rng, 2, 48)}` },
  { label: "PLATFORM", noun: "platform number", value: (rng) => String(randInt(rng, 1, 16)) },
  { label: "ROOM", noun: "room number", value: (rng) => String(randInt(rng, 101, 499)) },
  { label: "DOCK", noun: "dock number", value: (rng) => String(randInt(rng, 1, 30)) },
  { label: "BAY", noun: "bay number", value: (rng) => `${randInt(rng, 1, 20)}${letter(rng)}` },
  { label: "TRACK", noun: "track number", value: (rng) => String(randInt(rng, 1, 12)) },
  { label: "BOOTH", noun: "booth number", value: (rng) => `${letter(rng)}${randInt(rng, 1, 40)}` },
  { label: "LEVEL", noun: "level", value: (rng) => `${letter(rng)}${randInt(rng, 1, 9)}` },
  { label: "ZONE", noun: "zone", value: (rng) => letter(rng) },
  { label: "LANE", noun: "lane number", value: (rng) => String(randInt(rng, 1, 9)) },
];

/** Label words of every form: never on a non-target object, so "the gate number" has one answer. */
export const LABEL_WORDS: ReadonlySet<string> = new Set([
  ...LABEL_FORMS.map((f) => f.label), "OPENS", "SEAT", "LOT", "EXPIRES", "NET", "TIME", "PERIOD", "PRICE", "ITEM", "AISLE",
  "LIONS", "BEARS", "HAWKS", "WOLVES", "SHARKS", "TIGERS",
]);

export function labelFormTarget(rng: Rng): TargetText {
  const f = pick(rng, LABEL_FORMS);
  const value = f.value(rng);
  return { kind: "label line", noun: "sign", lines: [`${f.label} ${value}`], labels: [{ label: f.label, noun: f.noun, answer: value }] };
}

const PLACES = [
  "HARBOR", "OLD TOWN", "RIVERSIDE", "NORTH PIER", "MARKET ST", "CITY HALL", "UNION SQUARE", "WEST END", "LAKESIDE",
  "HILLTOP", "BAYVIEW", "KINGS CROSS", "ELM STREET", "STATION RD", "MUSEUM", "LIBRARY", "AIRPORT", "STADIUM",
  "CATHEDRAL", "BRIGHTON", "OAKLAND", "MAPLE AVE", "SEASIDE", "CHINATOWN", "EAST VILLAGE", "HIGH STREET", "DOWNTOWN",
  "FERRY TERMINAL", "BOTANIC GARDEN", "OLD MILL", "FOX HOLLOW", "PINE RIDGE", "CASTLE ROAD", "SUNSET BLVD",
];

const NOUNS = [
  "BAKERY", "PHARMACY", "TICKETS", "COFFEE", "BOOKS", "FLOWERS", "GARAGE", "HOTEL", "TAXI", "BICYCLES", "FRESH FISH",
  "ICE CREAM", "LAUNDRY", "PIZZA", "RECEPTION", "BARBER", "DELI", "CINEMA", "FERRY", "POST OFFICE", "GROCERY",
  "NOODLES", "BUTCHER", "TOYS", "FLORIST", "HARDWARE", "TAILOR", "DENTIST", "BOUTIQUE", "GELATO", "CHEMIST",
  "BUS STOP", "RESTROOMS", "LOCKERS", "CHECK IN", "BAGGAGE", "INFORMATION", "WAITING ROOM", "FIRST AID", "LOST PROPERTY",
];

/** Short notices, the kind of text that stands around a scene (never the target). */
const NOTICES = [
  "NO PARKING", "WET FLOOR", "CAUTION", "STAFF ONLY", "PUSH", "PULL", "WELCOME", "OPEN DAILY", "SALE", "OPEN",
  "CLOSED", "THANK YOU", "KEEP LEFT", "NO ENTRY", "MIND THE STEP", "QUIET PLEASE", "FIRE EXIT", "SLOW", "ONE WAY", "DRINKS",
];

const code = (rng: Rng) =>
  pick(rng, [
    () => `${letter(rng)}${randInt(rng, 2, 99)}`,
    () => `${letter(rng)}${letter(rng)}-${randInt(rng, 1, 99)}`,
    () => `${letter(rng)}${randInt(rng, 100, 999)}`,
  ])();

const time = (rng: Rng) => pick(rng, [() => clock12(rng), () => `${randInt(rng, 0, 23)}:${pad2(randInt(rng, 0, 59))}`])();

/** Title Case for some signs ("Old Town"), UPPER CASE for most. */
function styled(rng: Rng, text: string): string {
  if (rng() >= 0.25) return text;
  return text.toLowerCase().replace(/\b[a-z]/g, (c) => c.toUpperCase());
}

/** A one-line text of a given kind: place, thing, code or time. */
export function plainText(rng: Rng, kind: "place" | "thing" | "code" | "time"): string {
  switch (kind) {
    case "place":
      return styled(rng, pick(rng, PLACES));
    case "thing":
      return styled(rng, pick(rng, NOUNS));
    case "code":
      return code(rng);
    case "time":
      return time(rng);
  }
}

export function plainTarget(rng: Rng): TargetText {
  const kind = pick(rng, ["place", "place", "thing", "thing", "code", "time"] as const);
  return { kind, noun: "sign", lines: [plainText(rng, kind)], labels: [] };
}

/** Lines of a non-target object: one line mostly, sometimes a notice with a time or code under it. */
export function otherLines(rng: Rng): string[] {
  const r = rng();
  if (r < 0.25) return [styled(rng, pick(rng, NOTICES))];
  if (r < 0.4) return [pick(rng, NOTICES), pick(rng, [time(rng), code(rng), styled(rng, pick(rng, PLACES))])];
  return [plainText(rng, pick(rng, ["place", "place", "thing", "thing", "code", "time"] as const))];
}

/** Upper-case words of a text ("Old Town 9:45" -> OLD, TOWN, 9:45). */
export function wordsOf(lines: readonly string[]): string[] {
  return lines.join(" ").toUpperCase().split(/\s+/).filter(Boolean);
}
