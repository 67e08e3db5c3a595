/** `devibench generate` and `devibench datasets`. */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { loadDevibench } from "../datasets/devibench.ts";
import { defaultSyntheticDir, generateSyntheticSet } from "../datasets/synthetic.ts";
import { UsageError } from "./args.ts";
import type { CliIo } from "./run-command.ts";

export const GENERATE_HELP = `Usage: devibench generate [--out DIR] [--seed N] [--clips N]

Renders the synthetic DeViBench-style set offline with ffmpeg: 5-second 1280x720 clips, a swaying
camera over one of six kinds of background (moving texture, bricks, tiles, plain wall, stripes,
bokeh lights); a target text object (a one-line word, place, code, time or label, or a three-line
gate sign, product label, scoreboard or price tag) and 2-4 other text objects, each a panel in a
named colour with contrasting text in one of 13 font faces, 16-40 px; coloured squares. Questions
in phrasing families (label, colour, position, size, bare, colour-of; then the corner square's
colour and a count of squares), each unambiguous by construction, with known answers and the
region of each answer. Same seed, same pixels. Writes DIR/<clip>.mkv (lossless) and
DIR/manifest.json (version 2).

  --out DIR     default .cache/devibench/synthetic-v2-s<seed>-c<clips>
  --seed N      default 1
  --clips N     default 10
  --help        this text`;

export const DATASETS_HELP = `Usage: devibench datasets [--videos DIR]

Lists the datasets a run can use, with their question counts by task type, and, given the folder
of StreamingBench videos, how many of the DeViBench questions have their video.`;

function num(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got "${raw}"`);
  return v;
}

export async function generateCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, options: { out: { type: "string" }, seed: { type: "string" }, clips: { type: "string" }, help: { type: "boolean" } } }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    io.out(GENERATE_HELP);
    return 0;
  }
  const seed = num("seed", values.seed as string | undefined, 1, 0);
  const clips = num("clips", values.clips as string | undefined, 10, 1);
  const dir = resolve(io.cwd, (values.out as string | undefined) ?? defaultSyntheticDir(seed, clips));
  const ffmpeg = resolveFfmpeg({ env: io.env }).path;
  io.out(JSON.stringify({ command: "generate", seed, clips, out: dir, ffmpeg }));
  const m = await generateSyntheticSet(ffmpeg, dir, { seed, clips }, (done, total, clip) => io.writeStderr(`clip ${done}/${total} ${clip.id} (${clip.kind})\n`));
  const questions = m.clips.reduce((n, c) => n + c.questions.length, 0);
  const families = new Map<string, number>();
  for (const q of m.clips.flatMap((c) => c.questions)) families.set(q.family, (families.get(q.family) ?? 0) + 1);
  io.out(`${m.clips.length} clips, ${questions} questions (${[...families].map(([f, k]) => `${f} ${k}`).join(", ")}) in ${dir}`);
  return 0;
}

export async function datasetsCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], strict: true, options: { videos: { type: "string" }, help: { type: "boolean" } } }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    io.out(DATASETS_HELP);
    return 0;
  }
  const videos = values.videos ? resolve(io.cwd, values.videos as string) : undefined;
  for (const [name, file, version] of [["devibench-v2", "devibench-v2.csv", "v2"], ["devibench-v1", "devibench-v1.csv", "v1"]] as const) {
    const path = new URL(`../data/${file}`, import.meta.url).pathname;
    const r = loadDevibench(path, { version, ...(videos ? { videosDir: videos } : {}) });
    const tasks = Object.entries(r.stats.taskTypes).sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`).join(", ");
    io.out(`${name}: ${r.samples.length} questions on ${r.stats.distinctVideos} videos (${tasks})`);
    io.out(videos ? `  videos found for ${r.samples.length - r.missingVideos} of ${r.samples.length} questions in ${videos}` : "  videos: pass --videos DIR (StreamingBench's sample_<id>/video.mp4, or <id>.mp4)");
  }
  const cache = resolve(io.cwd, ".cache", "devibench");
  const sets = existsSync(cache) ? readdirSync(cache).filter((d) => existsSync(join(cache, d, "manifest.json"))) : [];
  io.out(`synthetic: generated on demand (devibench generate); on disk: ${sets.length > 0 ? sets.join(", ") : "none yet"}`);
  return 0;
}
