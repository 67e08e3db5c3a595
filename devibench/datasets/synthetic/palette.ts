/**
 * The colours of the synthetic set, by the names people give them. Each name has several shades
 * (navy and sky blue are both "blue"), all well inside the name, so that a question that says "the
 * blue sign" and an answer that says "blue" are both right by any reasonable reading. Text colour
 * is chosen for contrast with its panel (WCAG's contrast ratio), as a sign maker would.
 */
import { pick, type Rng } from "../../../encoder/synth/prng.ts";

export const COLOUR_NAMES = ["red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown", "black", "white", "grey"] as const;
export type ColourName = (typeof COLOUR_NAMES)[number];

/** Panel shades per name (0xRRGGBB). */
export const PANEL_SHADES: Readonly<Record<ColourName, readonly string[]>> = {
  red: ["0xc62828", "0xd32f2f", "0xb71c1c", "0xcc2222"],
  orange: ["0xef6c00", "0xf57c00", "0xfb8c00", "0xff7f27"],
  yellow: ["0xfdd835", "0xffeb3b", "0xf9c80e", "0xffe14d"],
  green: ["0x2e7d32", "0x43a047", "0x1b5e20", "0x388e3c"],
  teal: ["0x00897b", "0x00796b", "0x009688", "0x26a69a"],
  blue: ["0x1565c0", "0x0d47a1", "0x1e3a8a", "0x42a5f5", "0x1976d2"],
  purple: ["0x6a1b9a", "0x7b1fa2", "0x8e24aa", "0x5e35b1"],
  pink: ["0xec407a", "0xf06292", "0xe91e63", "0xf48fb1"],
  brown: ["0x6d4c41", "0x6f4e37", "0x5d4037", "0x8d6e63"],
  black: ["0x111111", "0x1c1c1c", "0x212121"],
  white: ["0xffffff", "0xf7f7f2", "0xfff8e1", "0xfafaf5"],
  grey: ["0x9e9e9e", "0x808080", "0xbdbdbd", "0x616161"],
};

/** Plain text colours: white and near-black. */
export const PLAIN_TEXT: Readonly<Record<"white" | "black", readonly string[]>> = {
  white: ["0xffffff", "0xf5f5f5"],
  black: ["0x111111", "0x1a1a1a", "0x202020"],
};

/** Coloured text, printed on a white or cream panel: dark enough to read there (contrast >= 4.5). */
export const COLOURED_TEXT: Readonly<Partial<Record<ColourName, readonly string[]>>> = {
  red: ["0xc62828", "0xb71c1c"],
  green: ["0x2e7d32", "0x1b5e20"],
  teal: ["0x00796b"],
  blue: ["0x1565c0", "0x0d47a1"],
  purple: ["0x6a1b9a", "0x7b1fa2"],
  brown: ["0x5d4037"],
};

export interface Paint {
  readonly name: ColourName;
  readonly hex: string;
}

function channels(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.replace(/^0x/, ""), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** WCAG 2 relative luminance of a 0xRRGGBB colour. */
export function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio, 1..21. */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Euclidean distance in 0..255 RGB: enough to keep a panel from melting into its background. */
export function rgbDistance(a: string, b: string): number {
  const [x, y] = [channels(a), channels(b)];
  return Math.hypot(x[0] - y[0], x[1] - y[1], x[2] - y[2]);
}

/**
 * White or near-black text for a panel: white when it reads well enough (contrast >= 3.5, as on
 * most red, blue or green signs), else black (yellow, orange, light grey, pink).
 */
export function plainTextFor(rng: Rng, panelHex: string): Paint {
  const white = pick(rng, PLAIN_TEXT.white);
  if (contrastRatio(white, panelHex) >= 3.5) return { name: "white", hex: white };
  return { name: "black", hex: pick(rng, PLAIN_TEXT.black) };
}
