/**
 * Synthetic test clips made offline with ffmpeg's own sources, seeded so that the same seed gives
 * the same pixels: a background (by default a textured one that keeps moving: a cellular automaton
 * texture blended over drifting colour gradients; backgrounds.ts has still ones too), a moving
 * block, and signs with small text whose boxes are known. The clip is stored losslessly (H.264 at
 * QP 0), so it is the reference for quality metrics.
 */
import { EncoderError } from "../errors.ts";
import type { Region } from "../importance/map.ts";
import { runFfmpeg } from "../ffmpeg/run.ts";
import { backgroundGraph, type BackgroundSpec } from "./backgrounds.ts";
import { FONT_FACES, resolveFont, type FaceName, type FontResolver } from "./fonts.ts";
import { mulberry32, pick, randInt, type Rng } from "./prng.ts";

export interface SignSpec {
  /** Top-left corner and size in clip pixels. */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Lines of text, top to bottom. The first line is bold. */
  readonly lines: readonly string[];
  /** Font size of the first line in pixels; later lines are 3/4 of it. */
  readonly fontPx: number;
  /** DejaVu face (default sans); the first line is bold. `face` overrides it. */
  readonly font?: "sans" | "serif" | "mono";
  /** A face from fonts.ts by its files (e.g. "lato", "liberation-serif"); missing files fall back to DejaVu. */
  readonly face?: FaceName;
  /** Whether the first line is bold (default true). */
  readonly firstLineBold?: boolean;
  /** Lines start at the left padding (default), or are centred (a one-line sign: both ways). */
  readonly align?: "left" | "center";
  /** Colours as 0xRRGGBB strings (default dark text on off-white). */
  readonly textColor?: string;
  readonly backgroundColor?: string;
}

/** A filled rectangle (for colour and counting questions). */
export interface BoxSpec {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** 0xRRGGBB or an ffmpeg colour name. */
  readonly color: string;
}

export interface ClipSpec {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly durationSec: number;
  readonly seed: number;
  readonly signs: readonly SignSpec[];
  /**
   * Hand-held camera: the whole picture sways by up to this many pixels (default 0). Nothing in
   * the picture then stays still, so no encoder can keep a once-sharp region for free.
   */
  readonly shakePx?: number;
  /**
   * Hand-held camera that also turns: the picture rotates back and forth by up to this many
   * radians about its centre (default 0), resampled every frame. The sway above moves whole pixels,
   * which motion compensation copies exactly, so a sign coded sharp once stays sharp at any bitrate;
   * a sub-pixel turn has to be paid for in every frame, as with a real camera.
   */
  readonly wobbleRad?: number;
  /** Filled rectangles drawn over the background, under the signs. */
  readonly boxes?: readonly BoxSpec[];
  /** What is behind everything (default: today's moving texture). */
  readonly background?: BackgroundSpec;
}

export interface GeneratedClip extends ClipSpec {
  readonly path: string;
}

const WORDS = ["GATE", "PLATFORM", "ROOM", "EXIT", "DOCK", "BAY", "LANE", "HALL", "TRACK", "BOOTH"];
const LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ";

function code(rng: Rng): string {
  return `${LETTERS[randInt(rng, 0, LETTERS.length - 1)]}${randInt(rng, 2, 98)}`;
}

/** A sign with random but readable text: "GATE K42" / "OPENS 4:35 PM  SEAT 23C". */
export function randomSign(rng: Rng, box: Omit<SignSpec, "lines" | "fontPx">, fontPx = 22): SignSpec {
  const hour = randInt(rng, 1, 12);
  const minute = String(randInt(rng, 0, 59)).padStart(2, "0");
  return {
    ...box,
    fontPx,
    lines: [`${pick(rng, WORDS)} ${code(rng)}`, `OPENS ${hour}:${minute} ${pick(rng, ["AM", "PM"])}  SEAT ${randInt(rng, 1, 40)}${pick(rng, ["A", "B", "C", "D"])}`],
  };
}

/** The bench's default: 1280x720, 5 s, 30 fps, one small-text sign at a seeded position. */
export function defaultClipSpec(seed = 1, overrides: Partial<ClipSpec> = {}): ClipSpec {
  const rng = mulberry32(seed);
  const width = overrides.width ?? 1280;
  const height = overrides.height ?? 720;
  const sw = Math.round(width * 0.25);
  const sh = Math.round(height * 0.125);
  const sign = randomSign(rng, {
    x: randInt(rng, 32, width - sw - 32) & ~1,
    y: randInt(rng, 32, height - sh - 32) & ~1,
    width: sw,
    height: sh,
  }, Math.max(10, Math.round(height / 32)));
  return { width, height, fps: 30, durationSec: 5, seed, signs: [sign], ...overrides };
}

export function signRegions(spec: ClipSpec): Region[] {
  return spec.signs.map((s) => ({ x: s.x, y: s.y, width: s.width, height: s.height }));
}

const DEJAVU: Record<"sans" | "serif" | "mono", FaceName> = { sans: "dejavu-sans", serif: "dejavu-serif", mono: "dejavu-mono" };

/** Sign text may only use these (drawtext gets it inside single quotes, with `:` escaped). */
const SAFE_TEXT = /^[\w .:,#/+()&-]*$/;

/** Escapes text for drawtext inside a single-quoted filter argument; refuses anything unsafe. */
export function drawtextEscape(text: string): string {
  if (!SAFE_TEXT.test(text)) {
    throw new EncoderError("INVALID_OPTION", `sign text may only use letters, digits, spaces and .:,#/+()&-, got ${JSON.stringify(text)}`);
  }
  return text.replace(/:/g, "\\:");
}

/** A colour for a filter option: 0xRRGGBB, or an ffmpeg colour name (letters only). */
function colourArg(c: string, field: string): string {
  if (!/^(0x[0-9a-fA-F]{6}|[a-zA-Z]+)$/.test(c)) {
    throw new EncoderError("INVALID_OPTION", `${field} must be a 0xRRGGBB colour or a colour name, got ${JSON.stringify(c)}`);
  }
  return c;
}

/** The clip's filter graph; `fonts` replaces the file system check and the stderr notice (tests). */
export function clipFilterGraph(spec: ClipSpec, fonts: FontResolver = {}): string {
  const { width: w, height: h, fps, seed, durationSec } = spec;
  const bg = backgroundGraph(spec.background ?? { kind: "texture" }, w, h, fps, seed);
  const parts = [
    ...bg.parts,
    bg.head +
      // A darker block crossing the picture, so that not all motion is the texture's scroll.
      `drawbox=x='mod(t*${Math.round(w / 6)}\\,${w})':y=${Math.round(h * 0.6)}:w=${Math.round(w / 10)}:h=${Math.round(h / 8)}:color=0x202830@0.8:t=fill` +
      (spec.boxes ?? []).map((b, i) => `,drawbox=x=${b.x}:y=${b.y}:w=${b.width}:h=${b.height}:color=${colourArg(b.color, `box ${i} color`)}:t=fill`).join("") +
      "[bg0]",
  ];
  let last = "bg0";
  spec.signs.forEach((s, i) => {
    const pad = Math.max(4, Math.round(s.fontPx * 0.6));
    const small = Math.max(8, Math.round(s.fontPx * 0.75));
    const face = s.face ?? DEJAVU[s.font ?? "sans"];
    const centred = s.align === "center";
    const color = colourArg(s.textColor ?? "0x202020", `sign ${i} textColor`);
    const texts = s.lines.map((line, k) => {
      const size = k === 0 ? s.fontPx : small;
      const bold = k === 0 && s.firstLineBold !== false;
      const font = resolveFont(face, bold, line, fonts);
      const fontsize = Math.max(6, Math.round(size * font.sizeScale));
      const x = centred ? "(w-text_w)/2" : String(pad);
      // One centred line sits in the middle of its panel; otherwise lines go down from the top.
      const y = centred && s.lines.length === 1
        ? "(h-text_h)/2"
        : String(pad + (k === 0 ? 0 : s.fontPx + Math.round(pad * 0.8) + (k - 1) * Math.round(small * 1.4)));
      return `drawtext=${font.arg}:expansion=none:text='${drawtextEscape(line)}':fontsize=${fontsize}:fontcolor=${color}:x=${x}:y=${y}`;
    });
    parts.push(`color=c=${colourArg(s.backgroundColor ?? "0xf2f2e8", `sign ${i} backgroundColor`)}:s=${s.width}x${s.height}:r=${fps},format=yuv420p,${texts.join(",")}[sign${i}]`);
    parts.push(`[${last}][sign${i}]overlay=x=${s.x}:y=${s.y}:shortest=1[bg${i + 1}]`);
    last = `bg${i + 1}`;
  });
  const shake = spec.shakePx ?? 0;
  const sway = shake > 0
    ? `pad=${w + 2 * shake}:${h + 2 * shake}:${shake}:${shake}:color=0x30405a,crop=${w}:${h}:x='${shake}+${shake}*sin(2*PI*t*0.7)':y='${shake}+${shake}*cos(2*PI*t*0.45)',`
    : "";
  const wobble = spec.wobbleRad ?? 0;
  const turn = wobble > 0 ? `rotate=a='${wobble}*sin(2*PI*t*0.37)':c=0x30405a,` : "";
  parts.push(`[${last}]${sway}${turn}trim=duration=${durationSec},setpts=PTS-STARTPTS[out]`);
  return parts.join(";");
}

export function validateClipSpec(spec: ClipSpec): void {
  if (!Number.isInteger(spec.width) || !Number.isInteger(spec.height) || spec.width < 64 || spec.height < 64 || spec.width % 2 || spec.height % 2) {
    throw new EncoderError("INVALID_SIZE", `clip size must be even integers >= 64, got ${spec.width}x${spec.height}`);
  }
  if (spec.wobbleRad !== undefined && !(spec.wobbleRad >= 0 && spec.wobbleRad <= 0.2)) {
    throw new EncoderError("INVALID_OPTION", `clip wobbleRad must be in [0, 0.2] radians, got ${spec.wobbleRad}`);
  }
  if (!(spec.fps > 0) || !(spec.durationSec > 0)) {
    throw new EncoderError("INVALID_OPTION", `clip fps and durationSec must be > 0, got ${spec.fps}, ${spec.durationSec}`);
  }
  spec.signs.forEach((s, i) => {
    if (s.x < 0 || s.y < 0 || s.x + s.width > spec.width || s.y + s.height > spec.height || s.width <= 0 || s.height <= 0) {
      throw new EncoderError("INVALID_OPTION", `sign ${i} (${s.x},${s.y} ${s.width}x${s.height}) must lie inside the ${spec.width}x${spec.height} clip`);
    }
    if (s.face !== undefined && !(s.face in FONT_FACES)) {
      throw new EncoderError("INVALID_OPTION", `sign ${i} face must be one of ${Object.keys(FONT_FACES).join(", ")}, got ${JSON.stringify(s.face)}`);
    }
  });
}

/** Renders the clip to `path` (Matroska, lossless H.264). */
export async function generateClip(ffmpeg: string, path: string, spec: ClipSpec): Promise<GeneratedClip> {
  validateClipSpec(spec);
  await runFfmpeg(ffmpeg, [
    "-y", "-loglevel", "error", "-filter_complex", clipFilterGraph(spec), "-map", "[out]",
    "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-threads", "2", "-f", "matroska", path,
  ]);
  return { ...spec, path };
}
