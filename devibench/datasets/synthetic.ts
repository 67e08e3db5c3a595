/**
 * The synthetic DeViBench-style set: seeded clips made offline with ffmpeg whose questions hinge on
 * fine detail, with known answers and the ground-truth region of each answer.
 *
 * Each clip: a textured, moving background under a swaying camera; one target object with small
 * text (a gate sign, a product label, a scoreboard or a price tag; several fonts and sizes); a
 * distractor sign with other words; coloured squares. Questions per clip: two about the target's
 * text (task "Text-Rich Understanding"), one about a square's colour ("Attribute Perception") and
 * one counting squares ("Counting").
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { generateClip, type BoxSpec, type ClipSpec, type SignSpec } from "../../encoder/synth/clip.ts";
import { mulberry32, pick, randInt, type Rng } from "../../encoder/synth/prng.ts";
import type { PixelBox, Sample } from "../types.ts";

export const TEXT_TASK = "Text-Rich Understanding";

interface QA {
  readonly question: string;
  readonly answer: string;
}

interface TargetTemplate {
  readonly kind: string;
  make(rng: Rng): { lines: string[]; qa: QA[] };
}

const LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ";
const letter = (rng: Rng) => LETTERS[randInt(rng, 0, LETTERS.length - 1)]!;
const pad2 = (n: number) => String(n).padStart(2, "0");

/** Text objects. Every answer sits on its own line after a label word the question names. */
const TARGETS: readonly TargetTemplate[] = [
  {
    kind: "sign",
    make(rng) {
      const gate = `${letter(rng)}${randInt(rng, 2, 98)}`;
      const time = `${randInt(rng, 1, 12)}:${pad2(randInt(rng, 0, 59))} ${pick(rng, ["AM", "PM"])}`;
      const seat = `${randInt(rng, 1, 40)}${pick(rng, ["A", "B", "C", "D"])}`;
      return {
        lines: [`GATE ${gate}`, `OPENS ${time}`, `SEAT ${seat}`],
        qa: [
          { question: "What gate number is shown on the sign?", answer: gate },
          { question: "What time does it open according to the sign?", answer: time },
          { question: "Which seat is written on the sign?", answer: seat },
        ],
      };
    },
  },
  {
    kind: "label",
    make(rng) {
      const lot = `${randInt(rng, 1000, 9999)}-${letter(rng)}`;
      const exp = `${pad2(randInt(rng, 1, 12))}/${pad2(randInt(rng, 26, 35))}`;
      const net = `${randInt(rng, 1, 9) * 50} G`;
      return {
        lines: [`LOT ${lot}`, `EXPIRES ${exp}`, `NET ${net}`],
        qa: [
          { question: "What is the lot number on the label?", answer: lot },
          { question: "When does it expire according to the label?", answer: exp },
          { question: "What net weight is printed on the label?", answer: net },
        ],
      };
    },
  },
  {
    kind: "scoreboard",
    make(rng) {
      const teams = ["LIONS", "BEARS", "HAWKS", "WOLVES", "SHARKS", "TIGERS"];
      const a = pick(rng, teams);
      const b = pick(rng, teams.filter((t) => t !== a));
      const score = `${randInt(rng, 0, 9)} - ${randInt(rng, 0, 9)}`;
      const clock = `${randInt(rng, 1, 44)}:${pad2(randInt(rng, 0, 59))}`;
      const period = String(randInt(rng, 1, 4));
      return {
        lines: [`${a} ${score} ${b}`, `TIME ${clock}`, `PERIOD ${period}`],
        qa: [
          { question: "What is the score on the scoreboard?", answer: score },
          { question: "What time is shown on the scoreboard clock?", answer: clock },
          { question: "Which period is it according to the scoreboard?", answer: period },
        ],
      };
    },
  },
  {
    kind: "price tag",
    make(rng) {
      const price = `${randInt(rng, 1, 99)}.${pad2(randInt(rng, 0, 99))}`;
      const item = String(randInt(rng, 10000, 99999));
      const aisle = `${randInt(rng, 1, 30)}${letter(rng)}`;
      return {
        lines: [`PRICE ${price}`, `ITEM ${item}`, `AISLE ${aisle}`],
        qa: [
          { question: "What is the price on the tag?", answer: price },
          { question: "What item number is printed on the tag?", answer: item },
          { question: "Which aisle does the tag name?", answer: aisle },
        ],
      };
    },
  },
];

const DISTRACTORS = [["EXIT 3", "NO PARKING"], ["WET FLOOR", "CAUTION"], ["STAFF ONLY", "PUSH"], ["WELCOME", "OPEN DAILY"]];
const COLORS: ReadonlyArray<[string, string]> = [["red", "0xd02020"], ["green", "0x20a040"], ["blue", "0x2050d0"], ["yellow", "0xe0c020"], ["purple", "0x8030b0"], ["orange", "0xe07010"]];

export interface SyntheticQuestion {
  readonly id: string;
  readonly question: string;
  readonly answer: string;
  readonly taskType: string;
  readonly regions: readonly PixelBox[];
}

export interface SyntheticClip {
  readonly id: string;
  readonly kind: string;
  readonly spec: ClipSpec;
  readonly questions: readonly SyntheticQuestion[];
}

export interface SyntheticOptions {
  readonly seed: number;
  readonly clips: number;
  readonly width?: number;
  readonly height?: number;
  /** Text sizes (px at the clip's height) drawn from this list: small text is the point. */
  readonly fontSizes?: readonly number[];
}

function grow(b: PixelBox, by: number, w: number, h: number): PixelBox {
  const x = Math.max(0, b.x - by);
  const y = Math.max(0, b.y - by);
  return { x, y, width: Math.min(w, b.x + b.width + by) - x, height: Math.min(h, b.y + b.height + by) - y };
}

/** The set's clips and questions, without rendering anything (pure, seeded). */
export function syntheticClips(options: SyntheticOptions): SyntheticClip[] {
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const sizes = options.fontSizes ?? [18, 20, 22, 24];
  const shakePx = Math.round(height / 90);
  const out: SyntheticClip[] = [];
  for (let n = 0; n < options.clips; n++) {
    const rng = mulberry32((options.seed * 1_000_003 + n * 7919) >>> 0);
    const template = TARGETS[n % TARGETS.length]!;
    const { lines, qa } = template.make(rng);
    const fontPx = pick(rng, sizes);
    const font = pick(rng, ["sans", "serif", "mono"] as const);
    // Sign size from its text: about 0.62 em per character (DejaVu), three lines.
    const longest = Math.max(...lines.map((l) => l.length));
    const sw = Math.round(longest * fontPx * (font === "mono" ? 0.66 : 0.7) + 2 * fontPx) & ~1;
    const sh = Math.round(fontPx * 4.6) & ~1;
    // Target in the right two thirds, distractor on the left, squares along the bottom.
    const target: SignSpec = {
      x: randInt(rng, Math.round(width * 0.4), width - sw - 24) & ~1,
      y: randInt(rng, 24, Math.round(height * 0.45)) & ~1,
      width: sw, height: sh, fontPx, font,
      lines,
    };
    const dWords = pick(rng, DISTRACTORS);
    const distractor: SignSpec = {
      x: randInt(rng, 24, Math.round(width * 0.2)) & ~1,
      y: randInt(rng, Math.round(height * 0.1), Math.round(height * 0.35)) & ~1,
      width: Math.round(width * 0.2) & ~1, height: Math.round(fontPx * 3.4) & ~1,
      fontPx: fontPx + 4, font: "sans", lines: dWords,
      backgroundColor: "0xe8e0d0",
    };
    // Coloured squares: one alone at the top left corner (colour question), several of one colour to count.
    const [aloneName, aloneHex] = pick(rng, COLORS);
    const [countName, countHex] = pick(rng, COLORS.filter(([c]) => c !== aloneName));
    const count = randInt(rng, 2, 5);
    const sq = Math.round(height / 18);
    const boxes: BoxSpec[] = [{ x: 8, y: 8, width: sq, height: sq, color: aloneHex }];
    for (let k = 0; k < count; k++) {
      boxes.push({ x: Math.round(width * 0.3) + k * sq * 2, y: height - 2 * sq, width: sq, height: sq, color: countHex });
    }
    const spec: ClipSpec = { width, height, fps: 30, durationSec: 5, seed: (options.seed + n) % 2 ** 31, signs: [target, distractor], shakePx, boxes };
    const id = `syn-${options.seed}-${n}`;
    const signBox = grow({ x: target.x, y: target.y, width: target.width, height: target.height }, shakePx, width, height);
    const twoQuestions = qa.slice(0, 3).filter((_, k) => k !== n % 3).slice(0, 2);
    out.push({
      id,
      kind: template.kind,
      spec,
      questions: [
        ...twoQuestions.map((q, k) => ({ id: `${id}-t${k}`, question: q.question, answer: q.answer, taskType: TEXT_TASK, regions: [signBox] })),
        {
          id: `${id}-c`, question: "What color is the small square in the top left corner?", answer: aloneName,
          taskType: "Attribute Perception", regions: [grow(boxes[0]!, shakePx, width, height)],
        },
        {
          id: `${id}-n`, question: `How many ${countName} squares are there along the bottom?`, answer: String(count),
          taskType: "Counting",
          regions: [grow({ x: boxes[1]!.x, y: boxes[1]!.y, width: count * sq * 2, height: sq }, shakePx, width, height)],
        },
      ],
    });
  }
  return out;
}

const manifestSchema = z.object({
  version: z.literal(1),
  seed: z.number(),
  clips: z.array(z.object({
    id: z.string(),
    kind: z.string(),
    video: z.string(),
    width: z.number(),
    height: z.number(),
    durationSec: z.number(),
    questions: z.array(z.object({
      id: z.string(), question: z.string(), answer: z.string(), taskType: z.string(),
      regions: z.array(z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() })),
    })),
  })),
});

export type SyntheticManifest = z.infer<typeof manifestSchema>;

/** Renders the clips that are not on disk yet and writes `manifest.json`. */
export async function generateSyntheticSet(
  ffmpeg: string,
  dir: string,
  options: SyntheticOptions,
  onClip?: (done: number, total: number, clip: SyntheticClip) => void,
): Promise<SyntheticManifest> {
  mkdirSync(dir, { recursive: true });
  const clips = syntheticClips(options);
  let done = 0;
  for (const clip of clips) {
    const video = join(dir, `${clip.id}.mkv`);
    if (!existsSync(video)) await generateClip(ffmpeg, video, clip.spec);
    onClip?.(++done, clips.length, clip);
  }
  const manifest: SyntheticManifest = {
    version: 1,
    seed: options.seed,
    clips: clips.map((c) => ({
      id: c.id, kind: c.kind, video: `${c.id}.mkv`, width: c.spec.width, height: c.spec.height, durationSec: c.spec.durationSec,
      questions: c.questions.map((q) => ({ ...q, regions: [...q.regions] })),
    })),
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest, null, 1));
  return manifest;
}

/** Reads a generated set's manifest into samples; a bad manifest names the field. */
export function loadSyntheticSet(dir: string): Sample[] {
  const path = join(dir, "manifest.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`cannot read the synthetic set's manifest ${path}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`synthetic manifest ${path}: field ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data.clips.flatMap((c) =>
    c.questions.map((q) => ({
      id: q.id, dataset: "synthetic" as const, videoPath: join(dir, c.video), startSec: 0, durationSec: c.durationSec,
      question: q.question, answer: q.answer, taskType: q.taskType, regions: q.regions, width: c.width, height: c.height,
    })),
  );
}
