/**
 * npm run bench:encoder -- [--json] [--seed N] [--route encoder-roi|prefilter|both] [--codec h264|vp8]
 *                          [--rungs 800,600,400,200,100,50] [--out DIR] [--keep]
 *
 * Generates (offline, seeded) a 1280x720 five-second clip with small text on one sign over a
 * textured, moving background, encodes it at every rung of the ladder with the baseline method
 * (no map) and the context-aware method (a map on the sign), and prints achieved bitrate, PSNR
 * inside and outside the sign, and encode speed. With --json the last line is one JSON object.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { EncoderError } from "../errors.ts";
import { resolveFfmpeg } from "../ffmpeg/resolve.ts";
import { mapFromRegions } from "../importance/map.ts";
import { encodeLadder, type ContextRoute, type RungResult } from "../ladder/ladder.ts";
import { DEFAULT_LADDER, rungsByKbps } from "../ladder/rungs.ts";
import { RoiPrefilter } from "../prefilter/index.ts";
import { defaultClipSpec, generateClip, signRegions } from "../synth/clip.ts";

const HELP = `Usage: npm run bench:encoder -- [options]

Encodes a generated 1280x720, 5 s clip (small text on one sign, textured moving background) at
each rung, baseline (no region map) against context-aware (map on the sign), everything else equal.

Options:
  --json            end with one JSON line: {"rungs":[{"targetKbps","width","height","baseline":{...},"context":{...},"speedX"}]}
  --seed N          seed of the clip: texture, sign position and text (default 1)
  --route R         how the context-aware method applies the map: encoder-roi (x264/libvpx region
                    control, default), prefilter (blur unimportant blocks before the encoder) or both
  --codec C         h264 (libx264, default) or vp8 (libvpx)
  --rungs LIST      comma-separated target kbps from ${DEFAULT_LADDER.map((r) => r.targetKbps).join(",")} (default all)
  --out DIR         keep the clip and encodes in DIR (default: a temporary folder, removed at the end)
  --help            this text

Environment: FFMPEG_PATH picks the ffmpeg binary (else ffmpeg-static, else ffmpeg on PATH).`;

interface BenchConfig {
  json: boolean;
  seed: number;
  route: ContextRoute;
  codec: "h264" | "vp8";
  rungs: number[];
  out: string | null;
}

export function parseBenchArgs(argv: readonly string[]): BenchConfig | "help" {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      json: { type: "boolean", default: false },
      seed: { type: "string", default: "1" },
      route: { type: "string", default: "encoder-roi" },
      codec: { type: "string", default: "h264" },
      rungs: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return "help";
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new EncoderError("INVALID_OPTION", `--seed must be a non-negative integer, got "${values.seed}"`);
  if (!["both", "encoder-roi", "prefilter"].includes(values.route)) {
    throw new EncoderError("INVALID_OPTION", `--route must be both, encoder-roi or prefilter, got "${values.route}"`);
  }
  if (values.codec !== "h264" && values.codec !== "vp8") throw new EncoderError("INVALID_OPTION", `--codec must be h264 or vp8, got "${values.codec}"`);
  const rungs = values.rungs === undefined
    ? DEFAULT_LADDER.map((r) => r.targetKbps)
    : values.rungs.split(",").map((s) => {
        const k = Number(s.trim());
        if (!Number.isFinite(k) || k <= 0) throw new EncoderError("INVALID_BITRATE", `--rungs: "${s}" is not a positive number of kbps`);
        return k;
      });
  rungsByKbps(rungs);
  return { json: values.json, seed, route: values.route as ContextRoute, codec: values.codec, rungs, out: values.out ?? null };
}

const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : "n/a");

function table(results: readonly RungResult[]): string {
  const head = ["target", "size", "base kbps", "ctx kbps", "base ROI dB", "ctx ROI dB", "ROI gain", "base bg dB", "ctx bg dB", "speed x"];
  const rows = results.map((r) => [
    `${r.targetKbps}k`, `${r.width}x${r.height}`,
    fmt(r.baseline.kbps), fmt(r.context.kbps),
    fmt(r.baseline.roiPsnrDb, 2), fmt(r.context.roiPsnrDb, 2), `${r.context.roiPsnrDb >= r.baseline.roiPsnrDb ? "+" : ""}${fmt(r.context.roiPsnrDb - r.baseline.roiPsnrDb, 2)}`,
    fmt(r.baseline.bgPsnrDb, 2), fmt(r.context.bgPsnrDb, 2), fmt(r.speedX),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

async function main(): Promise<number> {
  let config: BenchConfig | "help";
  try {
    config = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench:encoder: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (config === "help") {
    console.log(HELP);
    return 0;
  }
  const ffmpeg = resolveFfmpeg({ env: process.env });
  const spec = defaultClipSpec(config.seed);
  const regions = signRegions(spec);
  console.log("bench:encoder configuration");
  console.log(JSON.stringify({ ...config, ffmpeg: ffmpeg.path, ffmpegSource: ffmpeg.source, clip: { width: spec.width, height: spec.height, fps: spec.fps, durationSec: spec.durationSec, signs: spec.signs } }, null, 2));

  const dir = config.out ?? mkdtempSync(join(tmpdir(), "bench-encoder-"));
  mkdirSync(dir, { recursive: true });
  try {
    const t0 = performance.now();
    const clip = await generateClip(ffmpeg.path, join(dir, `clip-seed${config.seed}.mkv`), spec);
    console.log(`clip generated in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${clip.path}`);
    const rungs = rungsByKbps(config.rungs);
    const total = rungs.length * 2;
    let done = 0;
    const results = await encodeLadder({
      ffmpeg: ffmpeg.path,
      input: clip.path,
      sourceWidth: spec.width,
      sourceHeight: spec.height,
      fps: spec.fps,
      outDir: dir,
      codec: config.codec,
      rungs,
      maps: [{ atSec: 0, map: mapFromRegions(spec.width, spec.height, 64, regions) }],
      route: config.route,
      prefilter: new RoiPrefilter({ mode: "blur" }),
      measureBoxes: regions,
      onStep: ({ rung, method, result }) => {
        done++;
        const pct = Math.round((100 * done) / total);
        const elapsed = (performance.now() - t0) / 1000;
        const eta = (elapsed / done) * (total - done);
        console.log(`[${"#".repeat(Math.round(pct / 5)).padEnd(20)}] ${pct}%  ${rung.targetKbps}k ${method}: ${result.kbps.toFixed(1)} kbps, ${result.speedX.toFixed(1)}x real time, eta ${eta.toFixed(0)} s`);
      },
    });
    console.log("\n" + table(results));
    const low = results.filter((r) => r.targetKbps <= 200);
    const within = (v: number, t: number) => Math.abs(v - t) <= 0.15 * t;
    const bitrateOk = results.every((r) => within(r.baseline.kbps, r.targetKbps) && within(r.context.kbps, r.targetKbps));
    const gainOk = low.every((r) => r.context.roiPsnrDb - r.baseline.roiPsnrDb >= 4);
    console.log(`\ncheck: every achieved bitrate within ±15% of its target: ${bitrateOk ? "yes" : "NO"}`);
    console.log(`check: ROI PSNR gain >= 4 dB at 200 kbps and below: ${gainOk ? "yes" : "NO"} (${low.map((r) => `${r.targetKbps}k +${fmt(r.context.roiPsnrDb - r.baseline.roiPsnrDb, 2)} dB`).join(", ")})`);
    console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (config.json) {
      const pick = (m: RungResult["baseline"]) => ({ kbps: round(m.kbps), roiPsnrDb: round(m.roiPsnrDb), bgPsnrDb: round(m.bgPsnrDb), avgQp: m.avgQp === null ? null : round(m.avgQp) });
      console.log(JSON.stringify({
        config: { seed: config.seed, route: config.route, codec: config.codec },
        rungs: results.map((r) => ({ targetKbps: r.targetKbps, width: r.width, height: r.height, baseline: pick(r.baseline), context: pick(r.context), speedX: round(r.speedX), allocation: r.allocation })),
        checks: { bitrateWithin15Pct: bitrateOk, roiGainAtLeast4DbAt200AndBelow: gainOk },
      }));
    }
    return 0;
  } finally {
    if (!config.out) rmSync(dir, { recursive: true, force: true });
  }
}

function round(v: number, d = 2): number {
  return Math.round(v * 10 ** d) / 10 ** d;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error & { code?: string };
    console.error(`bench:encoder failed${e.code ? ` (${e.code})` : ""}: ${e.message}`);
    process.exit(1);
  },
);
