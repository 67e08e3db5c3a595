/**
 * Backgrounds of synthetic clips, as ffmpeg filter graph pieces: today's moving texture (a
 * cellular automaton blended over drifting gradients) and patterns drawn once with `geq` and
 * repeated (bricks, tiles, a plain wall with faint blotches and a light gradient, stripes, blurred
 * bokeh circles), under moving dappled light: a coarse automaton, blurred, laid over them in soft
 * light. Without it a still pattern under a whole-pixel sway costs an encoder nothing after the
 * first frame, and every rung would look alike; with it the clip keeps asking for bits, as the
 * texture does (and its lossless file stays about the texture's size: fine grain under moving
 * light would make it four times bigger, so the patterns carry none).
 *
 * Every colour is a 0xRRGGBB string; every random choice is made by the caller (seeded), except
 * ffmpeg's automata, which take the clip's seed.
 */
import { EncoderError } from "../errors.ts";

export type BackgroundSpec =
  /** Today's: gradients c0..c2 under a scrolling automaton texture (defaults: today's colours). */
  | { readonly kind: "texture"; readonly colors?: readonly [string, string, string] }
  /** Running bond bricks with mortar joints; each brick's shade varies by up to `jitter` (0..1). */
  | { readonly kind: "bricks"; readonly brick: string; readonly mortar: string; readonly brickWidthPx: number; readonly brickHeightPx: number; readonly jitter: number }
  /** Square tiles with grout lines. */
  | { readonly kind: "tiles"; readonly tile: string; readonly grout: string; readonly tilePx: number; readonly jitter: number }
  /** A painted wall: one colour, faint blotches (`blotch` 0..0.2) and a light gradient. */
  | { readonly kind: "wall"; readonly color: string; readonly blotch: number }
  /** Parallel stripes of two colours at an angle (degrees; 0 = vertical stripes). */
  | { readonly kind: "stripes"; readonly colors: readonly [string, string]; readonly stripePx: number; readonly angleDeg: number }
  /** Out-of-focus lights: soft discs over a dark vertical gradient. */
  | { readonly kind: "bokeh"; readonly top: string; readonly bottom: string; readonly circles: readonly BokehCircle[] };

export interface BokehCircle {
  readonly x: number;
  readonly y: number;
  readonly radiusPx: number;
  readonly color: string;
  /** 0..1 */
  readonly opacity: number;
}

export const BACKGROUND_KINDS = ["texture", "bricks", "tiles", "wall", "stripes", "bokeh"] as const;

const HEX = /^0x[0-9a-fA-F]{6}$/;

function rgb(hex: string, field: string): [number, number, number] {
  if (!HEX.test(hex)) throw new EncoderError("INVALID_OPTION", `background ${field} must be a 0xRRGGBB colour, got ${JSON.stringify(hex)}`);
  const v = Number.parseInt(hex.slice(2), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

const n = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(4));

/** A per-cell random number in 0..1 from the cell's column and row expressions (the usual sine hash). */
const cellHash = (col: string, row: string) => `mod(abs(sin((${col})*12.9898+(${row})*78.233)*43758.5453),1)`;

/** Light falling across the picture: 1.08 at one corner to 0.88 at the other. */
const light = (w: number, h: number) => `(1.08-0.2*(0.6*X/${w}+0.4*Y/${h}))`;

/** geq's three channel expressions from one per-channel builder, drawn once and repeated. */
function still(w: number, h: number, fps: number, channel: (c: 0 | 1 | 2) => string, after = ""): string {
  // geq wraps values outside 0..255 (a light tile made 8% lighter turns red): clip them.
  const [r, g, b] = ([0, 1, 2] as const).map((c) => `clip(${channel(c)},0,255)`);
  return (
    `color=c=black:s=${w}x${h}:r=${fps},trim=end_frame=1,format=rgb24,` +
    `geq=r='${r}':g='${g}':b='${b}'${after},loop=loop=-1:size=1,setpts=N/FRAME_RATE/TB,format=yuv420p`
  );
}

/** Moving dappled light for a still pattern: a coarse automaton, blurred, laid over in soft light. */
function dappled(w: number, h: number, fps: number, seed: number, pattern: string): BackgroundGraph {
  const cw = Math.max(16, Math.round(w / 8));
  const ch = Math.max(16, Math.round(h / 8));
  return {
    parts: [
      `${pattern}[bgimg]`,
      `cellauto=s=${cw}x${ch}:rule=110:rate=${fps}:seed=${seed}:random_fill_ratio=0.5,scale=${w}:${h}:flags=bicubic,gblur=sigma=${Math.max(2, Math.round(h / 90))},format=yuv420p[dapple]`,
    ],
    head: "[bgimg][dapple]blend=all_mode=softlight:all_opacity=0.15,",
  };
}

export interface BackgroundGraph {
  /** Filter chains to put first in the graph, each ending in a label. */
  readonly parts: readonly string[];
  /** The start of the chain that continues from the background (filters are appended to it). */
  readonly head: string;
}

/** The background's filter graph pieces for a w x h clip at fps (the seed drives the automata). */
export function backgroundGraph(bg: BackgroundSpec, w: number, h: number, fps: number, seed: number): BackgroundGraph {
  switch (bg.kind) {
    case "texture": {
      const [c0, c1, c2] = bg.colors ?? ["0x30405a", "0x8a6b3a", "0x2f6b4a"];
      bg.colors?.forEach((c, i) => rgb(c, `colors[${i}]`));
      const cw = Math.max(16, Math.round(w / 4));
      const ch = Math.max(16, Math.round(h / 4));
      return {
        parts: [
          `cellauto=s=${cw}x${ch}:rule=110:rate=${fps}:seed=${seed}:random_fill_ratio=0.5,scale=${w}:${h}:flags=bicubic,gblur=sigma=2,format=yuv420p[tex]`,
          `gradients=s=${w}x${h}:rate=${fps}:c0=${c0}:c1=${c1}:c2=${c2}:speed=0.02:seed=${seed},format=yuv420p[grad]`,
        ],
        head: "[grad][tex]blend=all_mode=overlay:all_opacity=0.3,",
      };
    }
    case "bricks": {
      const brick = rgb(bg.brick, "brick");
      const mortar = rgb(bg.mortar, "mortar");
      const bw = Math.max(8, Math.round(bg.brickWidthPx));
      const bh = Math.max(4, Math.round(bg.brickHeightPx));
      const joint = Math.max(2, Math.round(bh / 12));
      const row = `floor(Y/${bh})`;
      const shifted = `(X+mod(${row},2)*${Math.round(bw / 2)})`;
      const isJoint = `gt(lt(mod(Y,${bh}),${joint})+lt(mod(${shifted},${bw}),${joint}),0)`;
      const shade = `(1+${n(bg.jitter)}*(${cellHash(`floor(${shifted}/${bw})`, row)}-0.5)*2)`;
      const channel = (c: 0 | 1 | 2) => `${light(w, h)}*if(${isJoint},${mortar[c]},${brick[c]}*${shade})`;
      return dappled(w, h, fps, seed, still(w, h, fps, channel));
    }
    case "tiles": {
      const tile = rgb(bg.tile, "tile");
      const grout = rgb(bg.grout, "grout");
      const s = Math.max(8, Math.round(bg.tilePx));
      const joint = Math.max(2, Math.round(s / 24));
      const isJoint = `gt(lt(mod(X,${s}),${joint})+lt(mod(Y,${s}),${joint}),0)`;
      const shade = `(1+${n(bg.jitter)}*(${cellHash(`floor(X/${s})`, `floor(Y/${s})`)}-0.5)*2)`;
      const channel = (c: 0 | 1 | 2) => `${light(w, h)}*if(${isJoint},${grout[c]},${tile[c]}*${shade})`;
      return dappled(w, h, fps, seed, still(w, h, fps, channel));
    }
    case "wall": {
      const c = rgb(bg.color, "color");
      // Broad, faint blotches of paint on top of the light gradient.
      const b = n(Math.min(0.2, Math.max(0, bg.blotch)));
      const blotch = `(1+${b}*(sin(X/97+Y/131)+0.7*sin(X/53-Y/71)+0.4*sin(X/23+Y/37)))`;
      const channel = (k: 0 | 1 | 2) => `${c[k]}*${light(w, h)}*${blotch}`;
      return dappled(w, h, fps, seed, still(w, h, fps, channel));
    }
    case "stripes": {
      const a = rgb(bg.colors[0], "colors[0]");
      const b = rgb(bg.colors[1], "colors[1]");
      const p = Math.max(4, Math.round(bg.stripePx));
      const rad = (bg.angleDeg * Math.PI) / 180;
      const along = `(X*${n(Math.cos(rad))}+Y*${n(Math.sin(rad))}+${4 * p * 1000})`;
      const channel = (c: 0 | 1 | 2) => `${light(w, h)}*if(lt(mod(${along},${2 * p}),${p}),${a[c]},${b[c]})`;
      // A slight blur so slanted edges are not staircases.
      return dappled(w, h, fps, seed, still(w, h, fps, channel, ",gblur=sigma=0.8"));
    }
    case "bokeh": {
      const top = rgb(bg.top, "top");
      const bottom = rgb(bg.bottom, "bottom");
      const circles = bg.circles.map((cc, i) => ({ ...cc, rgb: rgb(cc.color, `circles[${i}].color`) }));
      // Register 0 holds the value as each disc is laid over the gradient (geq's st/ld).
      const channel = (c: 0 | 1 | 2) =>
        [
          `st(0,${top[c]}+(${bottom[c] - top[c]})*Y/${h})`,
          ...circles.map(
            (cc) => `st(0,ld(0)+(${cc.rgb[c]}-ld(0))*${n(cc.opacity)}*lte(hypot(X-${Math.round(cc.x)},Y-${Math.round(cc.y)}),${Math.round(cc.radiusPx)}))`,
          ),
          "ld(0)",
        ].join(";");
      const sigma = Math.max(2, Math.round(h / 80));
      return dappled(w, h, fps, seed, still(w, h, fps, channel, `,gblur=sigma=${sigma}`));
    }
  }
}
