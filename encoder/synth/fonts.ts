/**
 * The font faces synthetic clips are drawn with: DejaVu (always there: fonts-dejavu-core) and
 * faces from four more Debian packages (fonts-liberation2, fonts-freefont-ttf, fonts-open-sans,
 * fonts-lato; .ci/install-system-deps installs them), each named by its files.
 *
 * Layout is decided from the widths below, not from the files, so the same seed gives the same
 * layout (and questions) on every machine. When a face's file is missing the text is drawn with
 * the DejaVu face of the same kind, a little smaller if DejaVu is wider, and that is said once on
 * stderr: a missing font never fails a clip.
 */
import { existsSync } from "node:fs";

/**
 * Advance widths in em, measured from the font files (hmtx): mean of A-Z, mean of a-z, widest
 * digit, space, widest of `:.-/,#+()`.
 */
type Widths = readonly [upper: number, lower: number, digit: number, space: number, punct: number];

interface FaceFile {
  readonly file: string;
  readonly widths: Widths;
}

export interface FontFace {
  readonly kind: "sans" | "serif" | "mono";
  /** Debian package holding the files. */
  readonly pkg: string;
  readonly dir: string;
  /** Lines after the first (and a first line drawn without bold). */
  readonly regular: FaceFile;
  /** The first line. */
  readonly bold: FaceFile;
  /** fontconfig family, for when not even DejaVu's file is there. */
  readonly family: string;
}

const ROOT = "/usr/share/fonts/truetype";

export const FONT_FACES = {
  "dejavu-sans": {
    kind: "sans", pkg: "fonts-dejavu-core", dir: "dejavu", family: "Sans",
    regular: { file: "DejaVuSans.ttf", widths: [0.67, 0.56, 0.64, 0.32, 0.84] },
    bold: { file: "DejaVuSans-Bold.ttf", widths: [0.75, 0.64, 0.7, 0.35, 0.84] },
  },
  "dejavu-serif": {
    kind: "serif", pkg: "fonts-dejavu-core", dir: "dejavu", family: "Serif",
    regular: { file: "DejaVuSerif.ttf", widths: [0.74, 0.57, 0.64, 0.32, 0.84] },
    bold: { file: "DejaVuSerif-Bold.ttf", widths: [0.8, 0.63, 0.7, 0.35, 0.84] },
  },
  "dejavu-mono": {
    kind: "mono", pkg: "fonts-dejavu-core", dir: "dejavu", family: "Monospace",
    regular: { file: "DejaVuSansMono.ttf", widths: [0.6, 0.6, 0.6, 0.6, 0.6] },
    bold: { file: "DejaVuSansMono-Bold.ttf", widths: [0.6, 0.6, 0.6, 0.6, 0.6] },
  },
  "liberation-sans": {
    kind: "sans", pkg: "fonts-liberation2", dir: "liberation2", family: "Sans",
    regular: { file: "LiberationSans-Regular.ttf", widths: [0.68, 0.49, 0.56, 0.28, 0.58] },
    bold: { file: "LiberationSans-Bold.ttf", widths: [0.69, 0.54, 0.56, 0.28, 0.58] },
  },
  "liberation-serif": {
    kind: "serif", pkg: "fonts-liberation2", dir: "liberation2", family: "Serif",
    regular: { file: "LiberationSerif-Regular.ttf", widths: [0.67, 0.46, 0.5, 0.25, 0.56] },
    bold: { file: "LiberationSerif-Bold.ttf", widths: [0.71, 0.49, 0.5, 0.25, 0.57] },
  },
  "liberation-mono": {
    kind: "mono", pkg: "fonts-liberation2", dir: "liberation2", family: "Monospace",
    regular: { file: "LiberationMono-Regular.ttf", widths: [0.6, 0.6, 0.6, 0.6, 0.6] },
    bold: { file: "LiberationMono-Bold.ttf", widths: [0.6, 0.6, 0.6, 0.6, 0.6] },
  },
  "free-sans": {
    kind: "sans", pkg: "fonts-freefont-ttf", dir: "freefont", family: "Sans",
    regular: { file: "FreeSans.ttf", widths: [0.68, 0.48, 0.56, 0.25, 0.58] },
    bold: { file: "FreeSansBold.ttf", widths: [0.7, 0.54, 0.56, 0.28, 0.58] },
  },
  "free-serif": {
    kind: "serif", pkg: "fonts-freefont-ttf", dir: "freefont", family: "Serif",
    regular: { file: "FreeSerif.ttf", widths: [0.66, 0.45, 0.5, 0.25, 0.56] },
    bold: { file: "FreeSerifBold.ttf", widths: [0.7, 0.49, 0.5, 0.25, 0.68] },
  },
  "free-mono": {
    kind: "mono", pkg: "fonts-freefont-ttf", dir: "freefont", family: "Monospace",
    regular: { file: "FreeMono.ttf", widths: [0.6, 0.6, 0.6, 0.6, 0.6] },
    bold: { file: "FreeMonoBold.ttf", widths: [0.6, 0.6, 0.6, 0.6, 0.6] },
  },
  "open-sans": {
    kind: "sans", pkg: "fonts-open-sans", dir: "open-sans", family: "Sans",
    regular: { file: "OpenSans-Regular.ttf", widths: [0.63, 0.52, 0.57, 0.26, 0.65] },
    bold: { file: "OpenSans-Bold.ttf", widths: [0.66, 0.57, 0.57, 0.26, 0.65] },
  },
  "open-sans-condensed": {
    kind: "sans", pkg: "fonts-open-sans", dir: "open-sans", family: "Sans",
    regular: { file: "OpenSans-CondLight.ttf", widths: [0.43, 0.36, 0.4, 0.19, 0.42] },
    bold: { file: "OpenSans-CondBold.ttf", widths: [0.5, 0.44, 0.46, 0.25, 0.54] },
  },
  lato: {
    kind: "sans", pkg: "fonts-lato", dir: "lato", family: "Sans",
    regular: { file: "Lato-Regular.ttf", widths: [0.66, 0.49, 0.58, 0.26, 0.58] },
    bold: { file: "Lato-Bold.ttf", widths: [0.67, 0.5, 0.58, 0.24, 0.58] },
  },
  "lato-black": {
    kind: "sans", pkg: "fonts-lato", dir: "lato", family: "Sans",
    regular: { file: "Lato-Medium.ttf", widths: [0.66, 0.49, 0.58, 0.25, 0.58] },
    bold: { file: "Lato-Black.ttf", widths: [0.68, 0.51, 0.58, 0.23, 0.58] },
  },
} as const satisfies Record<string, FontFace>;

export type FaceName = keyof typeof FONT_FACES;
export const FACE_NAMES = Object.keys(FONT_FACES) as FaceName[];

/** The DejaVu face each kind falls back to. */
const FALLBACK: Record<FontFace["kind"], FaceName> = { sans: "dejavu-sans", serif: "dejavu-serif", mono: "dejavu-mono" };

export function fontPath(face: FaceName, bold: boolean): string {
  const f: FontFace = FONT_FACES[face];
  return `${ROOT}/${f.dir}/${(bold ? f.bold : f.regular).file}`;
}

/**
 * Width of `text` in em in the face (bold: the first line's file). An estimate from per-class
 * means, 5% over, so a panel sized from it holds the text (centred text then sits in a little
 * more room than it needs).
 */
export function textWidthEm(text: string, face: FaceName, bold: boolean): number {
  const f: FontFace = FONT_FACES[face];
  const [upper, lower, digit, space, punct] = (bold ? f.bold : f.regular).widths;
  let em = 0;
  for (const ch of text) {
    if (ch >= "A" && ch <= "Z") em += upper;
    else if (ch >= "a" && ch <= "z") em += lower;
    else if (ch >= "0" && ch <= "9") em += digit;
    else if (ch === " ") em += space;
    else em += punct;
  }
  return em * 1.05;
}

export interface FontResolver {
  /** Whether a font file is there (default: the file system). */
  readonly exists?: (path: string) => boolean;
  /** Where the one-time fallback notice goes (default: stderr). */
  readonly warn?: (message: string) => void;
}

/** Paths already reported, so each missing file is named once per process. */
const reported = new Set<string>();

export interface ResolvedFont {
  /** The drawtext font option: `fontfile=PATH`, or `font=FAMILY` through fontconfig. */
  readonly arg: string;
  /** Scale for the font size so the fallback's (wider) text still fits the panel: 1 when none. */
  readonly sizeScale: number;
}

/**
 * The font to draw `text` of `face` with: its own file, else DejaVu of the same kind (shrunk to
 * the width the layout expected), else fontconfig's family. Never throws.
 */
export function resolveFont(face: FaceName, bold: boolean, text: string, r: FontResolver = {}): ResolvedFont {
  const exists = r.exists ?? existsSync;
  const warn = r.warn ?? ((m: string) => process.stderr.write(`${m}\n`));
  const own = fontPath(face, bold);
  if (exists(own)) return { arg: `fontfile=${own}`, sizeScale: 1 };
  const fallback = FALLBACK[FONT_FACES[face].kind];
  const alt = fontPath(fallback, bold);
  const once = (message: string) => {
    if (reported.has(own)) return;
    reported.add(own);
    warn(message);
  };
  const want = textWidthEm(text, face, bold);
  const got = textWidthEm(text, fallback, bold);
  const sizeScale = got > want && got > 0 ? want / got : 1;
  if (fallback !== face && exists(alt)) {
    once(`synthetic clips: font file ${own} is missing (Debian package ${FONT_FACES[face].pkg}); drawing with ${alt} instead`);
    return { arg: `fontfile=${alt}`, sizeScale };
  }
  const family: string = FONT_FACES[face].family;
  const files = fallback === face ? own : `${own} and ${alt}`;
  once(`synthetic clips: font file(s) ${files} missing (Debian packages ${FONT_FACES[face].pkg}, fonts-dejavu-core); drawing with fontconfig's ${family}`);
  return { arg: `font=${family}${bold ? "\\:style=Bold" : ""}`, sizeScale };
}

/** For tests: forget which missing files were reported. */
export function resetFontReports(): void {
  reported.clear();
}
