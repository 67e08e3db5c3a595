/**
 * A synthetic test scene for the embedded OCR engine, rendered by ffmpeg: a white sign with three
 * lines ("GATE K42", "OPENS 7:58 PM", "SEAT 18D") on a busy background (a cellular automaton
 * blended over ffmpeg's testsrc2 bars, whose running clock is extra text), plus distractor text.
 * Used by the integration test and the benchmark; deterministic (seeded automaton, first frame).
 */
import { resolveFfmpeg } from "../../../encoder/ffmpeg/resolve.ts";
import { runFfmpeg } from "../../../encoder/ffmpeg/run.ts";
import type { VideoFrame } from "../types.ts";
import type { PixelBox } from "./geometry.ts";

export const SCENE_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
export const SIGN_LINES = ["GATE K42", "OPENS 7:58 PM", "SEAT 18D"] as const;
export const DISTRACTORS = ["WELCOME TO TERMINAL 2", "NO SMOKING", "BAGGAGE CLAIM 5"] as const;

export interface SceneOptions {
  readonly width: number;
  readonly height: number;
  /** Font size of the sign's text in pixels. */
  readonly fontSize: number;
  /** Gaussian blur (ffmpeg gblur sigma, pixels) over the whole picture, to degrade it. */
  readonly blurSigma?: number;
  /** The automaton's seed (default 7). */
  readonly seed?: number;
}

export interface Scene {
  readonly frame: VideoFrame;
  /** The white sign panel in pixels. */
  readonly sign: PixelBox;
}

/** Escapes text for ffmpeg's drawtext inside a filtergraph. */
function drawtextEscape(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/:/g, "\\:").replace(/'/g, "\\'");
}

export async function renderScene(options: SceneOptions, env: NodeJS.ProcessEnv = process.env): Promise<Scene> {
  const { width: w, height: h, fontSize: fs } = options;
  const s = w / 1280;
  const sign: PixelBox = {
    x: Math.round(780 * s),
    y: Math.round(200 * s),
    width: Math.round(fs * 11.5),
    height: Math.round(fs * 5.8),
  };
  const pad = Math.round(fs * 0.75);
  const draw = (text: string, x: number, y: number, size: number, color: string) =>
    `drawtext=fontfile=${SCENE_FONT}:text='${drawtextEscape(text)}':x=${x}:y=${y}:fontsize=${size}:fontcolor=${color}`;
  const filters = [
    "[1][0]blend=all_mode=overlay:all_opacity=0.4",
    `drawbox=x=${sign.x}:y=${sign.y}:w=${sign.width}:h=${sign.height}:color=white@1:t=fill`,
    ...SIGN_LINES.map((t, i) => draw(t, sign.x + pad, sign.y + pad + Math.round(i * fs * 1.7), fs, "black")),
    draw(DISTRACTORS[0], Math.round(60 * s), Math.round(60 * s), Math.round(fs * 0.95), "white"),
    draw(DISTRACTORS[1], Math.round(120 * s), Math.round(600 * s), Math.round(fs * 0.85), "yellow"),
    draw(DISTRACTORS[2], Math.round(420 * s), Math.round(470 * s), fs, "0xffd0a0"),
  ];
  if (options.blurSigma) filters.push(`gblur=sigma=${options.blurSigma}`);
  filters.push("format=rgb24");
  const ffmpeg = resolveFfmpeg({ env });
  const { stdout } = await runFfmpeg(
    ffmpeg.path,
    [
      "-loglevel", "error",
      "-f", "lavfi", "-i", `cellauto=s=${w}x${h}:rule=110:rate=1:seed=${options.seed ?? 7}`,
      "-f", "lavfi", "-i", `testsrc2=s=${w}x${h}:rate=1,hue=s=0.3,eq=brightness=-0.25`,
      "-filter_complex", filters.join(","),
      "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
    ],
    { captureStdout: true },
  );
  if (stdout.length !== w * h * 3) throw new Error(`ffmpeg gave ${stdout.length} bytes for a ${w}x${h} RGB frame`);
  return { frame: { width: w, height: h, rgb: new Uint8Array(stdout), timestampMs: 0 }, sign };
}
