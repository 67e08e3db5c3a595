/**
 * The synthetic DeViBench-style set: seeded clips made offline with ffmpeg whose questions hinge on
 * fine detail, asked the ways people ask, with known answers and the ground-truth region of each.
 *
 * Each clip (synthetic/scene.ts): one of six kinds of background under a swaying camera; a target
 * text object and 2-4 other text objects, each a solid panel in a named colour (distinct names in
 * a clip) with contrasting text, in DejaVu, Liberation, FreeFont, Open Sans or Lato, 16-40 px;
 * coloured squares. Questions (synthetic/questions.ts): one per phrasing family the layout makes
 * unambiguous (label, colour, position, size, bare: "Text-Rich Understanding"; colour-of:
 * "Attribute Perception"), then today's colour of the corner square ("Attribute Perception") and
 * count of squares ("Counting").
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { generateClip, type BoxSpec, type ClipSpec, type SignSpec } from "../../encoder/synth/clip.ts";
import { mulberry32, pick, randInt } from "../../encoder/synth/prng.ts";
import type { PixelBox, Sample } from "../types.ts";
import { grow } from "./synthetic/layout.ts";
import { askAbout, ATTRIBUTE_TASK, COUNTING_TASK, FAMILIES, TEXT_TASK, type Family } from "./synthetic/questions.ts";
import { buildScene, sceneProblems, type Scene } from "./synthetic/scene.ts";

export { FAMILIES, TEXT_TASK, type Family };

/** Colours of the squares, as in the first set. */
const SQUARE_COLORS: ReadonlyArray<[string, string]> = [["red", "0xd02020"], ["green", "0x20a040"], ["blue", "0x2050d0"], ["yellow", "0xe0c020"], ["purple", "0x8030b0"], ["orange", "0xe07010"]];

export interface SyntheticQuestion {
  readonly id: string;
  readonly question: string;
  readonly answer: string;
  readonly taskType: string;
  readonly family: Family;
  readonly regions: readonly PixelBox[];
}

export interface SyntheticClip {
  readonly id: string;
  readonly kind: string;
  readonly spec: ClipSpec;
  readonly scene: Scene;
  readonly questions: readonly SyntheticQuestion[];
}

export interface SyntheticOptions {
  readonly seed: number;
  readonly clips: number;
  readonly width?: number;
  readonly height?: number;
  /** Text sizes (px at the clip's height) to draw from instead of 16-40 px at 720 lines scaled. */
  readonly fontSizes?: readonly number[];
}

/** Where `devibench run` and `generate` keep a set by default ("v2": the set with question families). */
export function defaultSyntheticDir(seed: number, clips: number): string {
  return join(".cache", "devibench", `synthetic-v${MANIFEST_VERSION}-s${seed}-c${clips}`);
}

function signOf(o: Scene["objects"][number]): SignSpec {
  return {
    x: o.x, y: o.y, width: o.width, height: o.height, lines: o.lines, fontPx: o.fontPx, face: o.face, firstLineBold: o.bold,
    align: o.lines.length > 2 ? "left" : "center", textColor: o.ink.hex, backgroundColor: o.panel.hex,
  };
}

/** The set's clips and questions, without rendering anything (pure, seeded). */
export function syntheticClips(options: SyntheticOptions): SyntheticClip[] {
  const width = options.width ?? 1280;
  const height = options.height ?? 720;
  const shakePx = Math.round(height / 90);
  const out: SyntheticClip[] = [];
  for (let n = 0; n < options.clips; n++) {
    const rng = mulberry32((options.seed * 1_000_003 + n * 7919) >>> 0);
    // Coloured squares: one alone at the top left corner (colour question), several of one colour to count.
    const [aloneName, aloneHex] = pick(rng, SQUARE_COLORS);
    const [countName, countHex] = pick(rng, SQUARE_COLORS.filter(([c]) => c !== aloneName));
    const count = randInt(rng, 2, 5);
    const sq = Math.round(height / 18);
    const boxes: BoxSpec[] = [{ x: 8, y: 8, width: sq, height: sq, color: aloneHex }];
    for (let k = 0; k < count; k++) {
      boxes.push({ x: Math.round(width * 0.3) + k * sq * 2, y: height - 2 * sq, width: sq, height: sq, color: countHex });
    }
    const row = { x: boxes[1]!.x, y: boxes[1]!.y, width: count * sq * 2, height: sq };
    const scene = buildScene(rng, n, options.seed, {
      width, height, shakePx, obstacles: [boxes[0]!, row], ...(options.fontSizes ? { fontSizes: options.fontSizes } : {}),
    });
    // buildScene draws until the rules hold; this only catches a bug in it.
    const problems = sceneProblems(scene, width, height);
    if (problems.length > 0) throw new Error(`synthetic clip ${n} (seed ${options.seed}) is ambiguous: ${problems.join("; ")}`);
    const [target] = scene.objects;
    const spec: ClipSpec = {
      width, height, fps: 30, durationSec: 5, seed: (options.seed + n) % 2 ** 31, signs: scene.objects.map(signOf), shakePx, boxes,
      background: scene.background,
    };
    const id = `syn-${options.seed}-${n}`;
    const targetBox = grow(target!, shakePx, width, height);
    const asked = askAbout(rng, {
      text: scene.target, panel: target!.panel, ink: target!.ink, colouredInk: scene.colouredInk,
      directions: scene.directions, size: scene.size, bare: scene.bare,
    }, n);
    let t = 0;
    out.push({
      id,
      kind: scene.target.kind,
      spec,
      scene,
      questions: [
        ...asked.map((q) => ({ id: q.family === "colour-of" ? `${id}-a` : `${id}-t${t++}`, ...q, regions: [targetBox] })),
        {
          id: `${id}-c`, question: "What color is the small square in the top left corner?", answer: aloneName,
          taskType: ATTRIBUTE_TASK, family: "square-colour" as const, regions: [grow(boxes[0]!, shakePx, width, height)],
        },
        {
          id: `${id}-n`, question: `How many ${countName} squares are there along the bottom?`, answer: String(count),
          taskType: COUNTING_TASK, family: "count" as const, regions: [grow(row, shakePx, width, height)],
        },
      ],
    });
  }
  return out;
}

/** Version 2: question families, text objects and backgrounds. Version 1 sets must be made again. */
export const MANIFEST_VERSION = 2;

const box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

const manifestSchema = z.object({
  version: z.literal(MANIFEST_VERSION),
  seed: z.number(),
  clips: z.array(z.object({
    id: z.string(),
    kind: z.string(),
    video: z.string(),
    width: z.number(),
    height: z.number(),
    durationSec: z.number(),
    background: z.string(),
    /** What is on screen, for whoever studies an engine's answers: target first. */
    objects: z.array(z.object({
      role: z.enum(["target", "other"]), lines: z.array(z.string()), panel: z.string(), panelHex: z.string(), ink: z.string(), inkHex: z.string(),
      face: z.string(), fontPx: z.number(), box,
    })),
    questions: z.array(z.object({
      id: z.string(), question: z.string(), answer: z.string(), taskType: z.string(), family: z.enum(FAMILIES), regions: z.array(box),
    })),
  })),
});

export type SyntheticManifest = z.infer<typeof manifestSchema>;

export function manifestOf(seed: number, clips: readonly SyntheticClip[]): SyntheticManifest {
  return {
    version: MANIFEST_VERSION,
    seed,
    clips: clips.map((c) => ({
      id: c.id, kind: c.kind, video: `${c.id}.mkv`, width: c.spec.width, height: c.spec.height, durationSec: c.spec.durationSec,
      background: c.scene.background.kind,
      objects: c.scene.objects.map((o) => ({
        role: o.role, lines: [...o.lines], panel: o.panel.name, panelHex: o.panel.hex, ink: o.ink.name, inkHex: o.ink.hex, face: o.face, fontPx: o.fontPx,
        box: { x: o.x, y: o.y, width: o.width, height: o.height },
      })),
      questions: c.questions.map((q) => ({ ...q, regions: [...q.regions] })),
    })),
  };
}

/** Renders the clips that are not on disk yet and writes `manifest.json`. */
export async function generateSyntheticSet(
  ffmpeg: string,
  dir: string,
  options: SyntheticOptions,
  onClip?: (done: number, total: number, clip: SyntheticClip) => void,
): Promise<SyntheticManifest> {
  mkdirSync(dir, { recursive: true });
  const clips = syntheticClips(options);
  // A folder holding another version's set would mix old clips with new questions: refuse it.
  const old = join(dir, "manifest.json");
  if (existsSync(old)) readManifest(old);
  let done = 0;
  for (const clip of clips) {
    const video = join(dir, `${clip.id}.mkv`);
    if (!existsSync(video)) await generateClip(ffmpeg, video, clip.spec);
    onClip?.(++done, clips.length, clip);
  }
  const manifest = manifestOf(options.seed, clips);
  writeFileSync(old, JSON.stringify(manifest, null, 1));
  return manifest;
}

/** Reads and checks a manifest; an old version or a bad field is named, with what to do. */
export function readManifest(path: string): SyntheticManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`cannot read the synthetic set's manifest ${path}: ${(err as Error).message}`, { cause: err });
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (version !== MANIFEST_VERSION) {
    throw new Error(
      `synthetic manifest ${path}: field version: the set is version ${JSON.stringify(version)}, this devibench reads version ${MANIFEST_VERSION} ` +
        `(clips and questions changed). Delete the folder ${dirname(path)} and run again, or make a new set with \`devibench generate --out DIR\``,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`synthetic manifest ${path}: field ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/** Reads a generated set's manifest into samples; a bad manifest names the field. */
export function loadSyntheticSet(dir: string): Sample[] {
  const m = readManifest(join(dir, "manifest.json"));
  return m.clips.flatMap((c) =>
    c.questions.map((q) => ({
      id: q.id, dataset: "synthetic" as const, videoPath: join(dir, c.video), startSec: 0, durationSec: c.durationSec,
      question: q.question, answer: q.answer, taskType: q.taskType, family: q.family, regions: q.regions, width: c.width, height: c.height,
    })),
  );
}
