import { afterEach, describe, expect, it } from "vitest";
import { BACKGROUND_KINDS, backgroundGraph, type BackgroundSpec } from "./backgrounds.ts";
import { clipFilterGraph, drawtextEscape, type ClipSpec } from "./clip.ts";
import { FACE_NAMES, fontPath, resetFontReports, resolveFont, textWidthEm } from "./fonts.ts";

const sign = { x: 100, y: 100, width: 300, height: 60, fontPx: 24 };
const spec = (over: Partial<ClipSpec> = {}): ClipSpec => ({ width: 640, height: 360, fps: 30, durationSec: 1, seed: 1, signs: [{ ...sign, lines: ["GATE B17"] }], ...over });

describe("drawtext escaping", () => {
  it("escapes the option separator and keeps the text inside single quotes", () => {
    expect(drawtextEscape("OPENS 7:58 PM")).toBe("OPENS 7\\:58 PM");
    const graph = clipFilterGraph(spec({ signs: [{ ...sign, lines: ["Old Town, 10:30 (B17) #4 & 5/6 +1"] }] }));
    expect(graph).toContain("text='Old Town, 10\\:30 (B17) #4 & 5/6 +1'");
  });

  it.each(["it's", "a;b", "a\\b", "[out]", "%{pts}", "x=1", "new\nline", "\"q\""])("refuses %j, which could break out of the filter graph", (text) => {
    expect(() => drawtextEscape(text)).toThrow(/sign text may only use/);
    expect(() => clipFilterGraph(spec({ signs: [{ ...sign, lines: [text] }] }))).toThrow(/sign text may only use/);
  });

  it("refuses a colour that is not 0xRRGGBB or a plain name, naming the field", () => {
    expect(() => clipFilterGraph(spec({ signs: [{ ...sign, lines: ["A"], textColor: "red:fontsize=99" }] }))).toThrow(/sign 0 textColor/);
    expect(() => clipFilterGraph(spec({ signs: [{ ...sign, lines: ["A"], backgroundColor: "0x12345" }] }))).toThrow(/sign 0 backgroundColor/);
    expect(() => clipFilterGraph(spec({ boxes: [{ x: 0, y: 0, width: 4, height: 4, color: "red[x]" }] }))).toThrow(/box 0 color/);
  });

  it("centres a one-line sign when asked, and draws it with the face's files", () => {
    const g = clipFilterGraph(spec({ signs: [{ ...sign, lines: ["HARBOR"], face: "lato", align: "center", firstLineBold: false }] }), { exists: () => true });
    expect(g).toContain(`fontfile=${fontPath("lato", false)}`);
    expect(g).toContain("x=(w-text_w)/2:y=(h-text_h)/2");
  });
});

describe("font faces", () => {
  afterEach(() => resetFontReports());

  it("names files from the Debian font packages, and estimates widths that grow with the text", () => {
    expect(FACE_NAMES.length).toBeGreaterThanOrEqual(12);
    expect(fontPath("liberation-serif", true)).toBe("/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf");
    expect(fontPath("open-sans", false)).toBe("/usr/share/fonts/truetype/open-sans/OpenSans-Regular.ttf");
    expect(textWidthEm("HARBOR VIEW", "dejavu-sans", true)).toBeGreaterThan(textWidthEm("HARBOR", "dejavu-sans", true));
    expect(textWidthEm("HARBOR", "open-sans-condensed", true)).toBeLessThan(textWidthEm("HARBOR", "dejavu-sans", true));
  });

  it("with a face's file missing, falls back to DejaVu of the same kind, shrunk to fit, and says so once", () => {
    const said: string[] = [];
    const r = { exists: (p: string) => !p.includes("/lato/"), warn: (m: string) => said.push(m) };
    const f = resolveFont("lato", true, "HARBOR", r);
    expect(f.arg).toBe(`fontfile=${fontPath("dejavu-sans", true)}`);
    expect(f.sizeScale).toBeLessThan(1);
    // Two signs in lato: the whole graph still renders with DejaVu, and the notice comes once.
    const g = clipFilterGraph(spec({ signs: [{ ...sign, lines: ["ONE"], face: "lato" }, { ...sign, y: 200, lines: ["TWO"], face: "lato" }] }), r);
    expect(g).not.toContain("/lato/");
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/Lato-Bold\.ttf is missing \(Debian package fonts-lato\); drawing with .*DejaVuSans-Bold\.ttf/);
  });

  it("with no font file at all, asks fontconfig for the family instead of failing", () => {
    const said: string[] = [];
    const f = resolveFont("free-serif", false, "Museum", { exists: () => false, warn: (m) => said.push(m) });
    expect(f.arg).toBe("font=Serif");
    expect(said).toHaveLength(1);
  });
});

describe("backgrounds", () => {
  const specs: Record<(typeof BACKGROUND_KINDS)[number], BackgroundSpec> = {
    texture: { kind: "texture" },
    bricks: { kind: "bricks", brick: "0x8a3b2a", mortar: "0xc8c0b0", brickWidthPx: 80, brickHeightPx: 32, jitter: 0.1 },
    tiles: { kind: "tiles", tile: "0xe8e8e0", grout: "0x9a9a94", tilePx: 60, jitter: 0.05 },
    wall: { kind: "wall", color: "0xb9b2a5", blotch: 0.03 },
    stripes: { kind: "stripes", colors: ["0x2f3e4e", "0x445566"], stripePx: 30, angleDeg: 45 },
    bokeh: { kind: "bokeh", top: "0x101820", bottom: "0x2a2030", circles: [{ x: 100, y: 80, radiusPx: 40, color: "0xffd28a", opacity: 0.5 }] },
  };

  it.each(BACKGROUND_KINDS)("%s: gives filter pieces that end in a label the clip continues from", (kind) => {
    const g = backgroundGraph(specs[kind], 640, 360, 30, 1);
    expect(g.parts.length).toBeGreaterThan(0);
    for (const p of g.parts) expect(p).toMatch(/\[\w+\]$/);
    expect(g.head.startsWith("[")).toBe(true);
    // The still ones are drawn once and repeated, with values clipped to 0..255, under moving light.
    if (kind !== "texture") {
      expect(g.parts[0]).toMatch(/trim=end_frame=1,format=rgb24,geq=r='clip\(.*loop=loop=-1:size=1/);
      expect(g.parts[1]).toMatch(/^cellauto=.*\[dapple\]$/);
    }
    expect(clipFilterGraph(spec({ background: specs[kind] }))).toContain(g.parts[0]!);
  });

  it("refuses a colour that is not 0xRRGGBB, naming the field", () => {
    expect(() => backgroundGraph({ kind: "wall", color: "grey", blotch: 0.01 }, 64, 64, 30, 1)).toThrow(/background color/);
    expect(() => backgroundGraph({ ...specs.bokeh, circles: [{ x: 1, y: 1, radiusPx: 1, color: "0xzz0000", opacity: 1 }] } as BackgroundSpec, 64, 64, 30, 1)).toThrow(
      /circles\[0\]\.color/,
    );
  });
});
