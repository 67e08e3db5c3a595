import { describe, expect, it } from "vitest";
import { analyzeQuestion, answerQuestion, rankRegions } from "./answer.ts";
import { boxColours, colourMatch, colourRegion, hexToOklab, letterColour, nameColour, oklab } from "./colour.ts";
import type { TextLine } from "./geometry.ts";
import { blocksOf, ground } from "./grounding.ts";
import { parseReference } from "./reference.ts";
import { words } from "./text-match.ts";

/** A line printed in `text` colour on a `panel` colour (hex), as the engine describes it from pixels. */
function line(text: string, x: number, y: number, opts: { h?: number; panel?: string; ink?: string; around?: string; conf?: number } = {}): TextLine {
  const h = opts.h ?? 28;
  const panel = hexToOklab(opts.panel ?? "f2f2e8");
  return {
    text, box: { x, y, width: Math.round(text.length * h * 0.6), height: h }, confidence: opts.conf ?? 0.96,
    colours: { background: panel, text: hexToOklab(opts.ink ?? "202020"), surround: opts.around ? hexToOklab(opts.around) : panel, textShare: 0.3 },
  };
}

const W = { frameWidth: 1280, frameHeight: 720 };
const answer = (q: string, lines: TextLine[]) => answerQuestion(q, [lines], W);

/** Three signs of three colours, other words elsewhere, as a person would see a street. */
const STREET: TextLine[] = [
  line("HARBOR", 100, 120, { panel: "2050d0", ink: "ffffff", around: "5a6470" }),
  line("VELVET", 620, 300, { panel: "d02020", ink: "ffffff", around: "5a6470" }),
  line("GATE B17", 1000, 560, { panel: "20a040", ink: "ffffff", h: 22 }),
  line("OPENS 7:30 PM", 1000, 590, { panel: "20a040", ink: "ffffff", h: 18 }),
  line("EXIT", 1100, 40, { panel: "ffffff", ink: "d02020", h: 20 }),
];

describe("colour naming in OKLab", () => {
  it.each([
    ["2050d0", "blue"], ["000080", "blue"], ["87ceeb", "blue"], ["d02020", "red"], ["20a040", "green"], ["e0c020", "yellow"],
    ["8030b0", "purple"], ["e07010", "orange"], ["f2f2e8", "white"], ["202020", "black"], ["808080", "grey"], ["ff69b4", "pink"],
    ["8b4513", "brown"], ["008080", "teal"],
  ])("%s is %s", (hex, name) => {
    expect(nameColour(hexToOklab(hex)).name).toBe(name);
  });

  it("ranks a washed-out blue (video coding pulls chroma to grey) above a grey and a red for 'blue'", () => {
    const washed = hexToOklab("5a6a90");
    expect(colourMatch(washed, "blue")).toBeGreaterThan(colourMatch(hexToOklab("7a7a7a"), "blue"));
    expect(colourMatch(washed, "blue")).toBeGreaterThan(colourMatch(hexToOklab("c04040"), "blue"));
  });

  it("reads a box's background, text and surroundings from pixels", () => {
    const w = 80;
    const h = 40;
    const rgb = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inPanel = x >= 10 && x < 70 && y >= 8 && y < 32;
        const stroke = inPanel && x % 6 < 2 && y >= 12 && y < 28; // vertical strokes of "letters"
        const [r, g, b] = stroke ? [255, 255, 255] : inPanel ? [32, 80, 208] : [90, 100, 112];
        rgb.set([r, g, b], (y * w + x) * 3);
      }
    }
    const c = boxColours({ width: w, height: h, rgb, timestampMs: 0 }, { x: 12, y: 10, width: 56, height: 20 });
    expect(nameColour(c.background).name).toBe("blue");
    expect(nameColour(c.text).name).toBe("white");
    expect(c.textShare).toBeGreaterThan(0.15);
    expect(c.textShare).toBeLessThan(0.5);
    expect(oklab(0, 0, 0)[0]).toBeCloseTo(0, 5);
    expect(oklab(255, 255, 255)[0]).toBeCloseTo(1, 3);
  });
});

describe("letterColour: what video coding did to thin letters, undone", () => {
  it("white letters on red that read pink are white; dark green letters on white that read grey-green are green", () => {
    // Measured on 800 kbps H.264 frames of the synthetic set (core pixels of 21-22 px boxes).
    expect(nameColour(letterColour([0.9, 0.05, 0.02], hexToOklab("c62828"), 22)).name).toBe("white");
    expect(nameColour(letterColour([0.39, -0.05, 0.03], hexToOklab("fafaf5"), 21)).name).toBe("green");
  });
  it("black letters blended grey on a small box are black again; big letters keep their brightness", () => {
    expect(nameColour(letterColour([0.41, -0.01, 0.01], hexToOklab("ffffff"), 19)).name).toBe("black");
    expect(nameColour(letterColour([0.41, -0.01, 0.01], hexToOklab("ffffff"), 40)).name).toBe("grey");
  });
});

describe("colourRegion: a panel found by its colour alone", () => {
  function frameWith(rects: Array<{ x: number; y: number; w: number; h: number; rgb: [number, number, number] }>) {
    const w = 320;
    const h = 180;
    const rgb = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) rgb.set([60 + (i % 7) * 5, 62, 58], i * 3); // a dull, slightly noisy grey
    for (const r of rects) for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) rgb.set(r.rgb, (y * w + x) * 3);
    return { width: w, height: h, rgb, timestampMs: 0 };
  }
  it("finds the blue panel and not the red one, and nothing when no panel has the colour", () => {
    const f = frameWith([{ x: 40, y: 30, w: 80, h: 40, rgb: [40, 90, 200] }, { x: 200, y: 100, w: 90, h: 50, rgb: [200, 40, 40] }]);
    const b = colourRegion(f, "blue", { cellPx: 8 })!;
    expect(b.x).toBeGreaterThanOrEqual(32);
    expect(b.x + b.width).toBeLessThanOrEqual(128);
    expect(b.y).toBeGreaterThanOrEqual(24);
    expect(b.y + b.height).toBeLessThanOrEqual(80);
    expect(colourRegion(f, "green", { cellPx: 8 })).toBeNull();
  });
});

describe("references in questions", () => {
  const ref = (q: string) => parseReference(q.toLowerCase(), words(q));
  it("finds colours and what they describe", () => {
    expect(ref("What is written on the blue sign?").colours).toEqual([{ name: "blue", role: "surface", word: "blue" }]);
    expect(ref("What's written in red letters?").colours[0]).toMatchObject({ name: "red", role: "text" });
    expect(ref("What is written in green on the board?").colours[0]).toMatchObject({ name: "green", role: "text" });
    expect(ref("Read the navy label").colours[0]).toMatchObject({ name: "blue" });
  });
  it("finds position, size and line", () => {
    expect(ref("What does the sign on the top left say?")).toMatchObject({ horizontal: "left", vertical: "top" });
    expect(ref("Read the text at the bottom")).toMatchObject({ vertical: "bottom", horizontal: null });
    expect(ref("What does the sign in the middle say?")).toMatchObject({ horizontal: "centre", vertical: "middle" });
    expect(ref("What does the big sign say?").size).toBe("big");
    expect(ref("What is on the second line?").line).toBe(1);
    expect(ref("Read the last line").line).toBe(-1);
  });
  it("leaves reference words out of the label words", () => {
    expect(analyzeQuestion("What gate number is on the blue sign?").contentWords).toEqual(["gate"]);
    expect(analyzeQuestion("What does the big sign on the left say?").contentWords).toEqual([]);
    expect(analyzeQuestion("What colour is the sign that says HARBOR?")).toMatchObject({ kind: "colour", contentWords: ["harbor"], colourOf: "surface" });
    expect(analyzeQuestion("What colour are the letters on the sign on the right?")).toMatchObject({ kind: "colour", colourOf: "text" });
  });
});

describe("grounding: which text the question means", () => {
  it.each([
    ["What is written on the blue sign?", "HARBOR"],
    ["What does the red sign say?", "VELVET"],
    ["What's written in red letters?", "EXIT"],
    ["Read the green label", "GATE B17 / OPENS 7:30 PM"],
    ["What gate number is on the green sign?", "B17"],
    ["What does the sign on the left say?", "HARBOR"],
    ["What is written at the top right?", "EXIT"],
    ["What does the sign at the bottom right say?", "GATE B17 / OPENS 7:30 PM"],
    ["What does the sign in the middle say?", "VELVET"],
    ["What is on the second line of the green sign?", "OPENS 7:30 PM"],
    ["What time does it open?", "7:30 PM"],
  ])("%s -> %s", (q, expected) => {
    const r = answer(q, STREET);
    expect(r, JSON.stringify(r)).toMatchObject({ text: expected, cannotAnswer: false });
    expect(r.box).toBeDefined();
    expect(r.confidence).toBeGreaterThan(0);
  });

  it("answers colour questions about text from its pixels", () => {
    expect(answer("What colour is the sign that says VELVET?", STREET).text).toBe("red");
    expect(answer("What color is the HARBOR sign?", STREET).text).toBe("blue");
    expect(answer("What colour are the letters of the EXIT sign?", STREET).text).toBe("red");
    expect(answer("What colour is the sign on the bottom right?", STREET).text).toBe("green");
  });

  it("names a sign by the code it shows (23:21, B17 stay whole words)", () => {
    const signs = [line("23:21", 200, 200, { panel: "2050d0", ink: "ffffff", h: 20 }), line("LOST PROPERTY", 800, 150, { h: 30 })];
    expect(answer("What colour is the sign reading 23:21?", signs).text).toBe("blue");
    expect(answer("What colour is the sign reading 10:45?", signs).text).toMatch(/none of the text I can read mentions "10:45"/);
    expect(answer("What colour is the car?", signs).text).toMatch(/only reads text/);
  });

  it("picks by size from letter height and extent: a short word in small letters is the small text", () => {
    // Box heights alone tie (the detector's margin is a bigger share of small letters).
    const signs = [line("LOST PROPERTY", 973, 149, { h: 29 }), { ...line("23:21", 260, 225, { h: 23 }), box: { x: 260, y: 225, width: 52, height: 23 } }, line("TOYS", 764, 540, { h: 33 })];
    expect(answer("Read the small text.", signs).text).toBe("23:21");
    expect(answer("Read the largest text.", signs).text).toBe("LOST PROPERTY");
  });

  it("reads the value a label word names, and the whole sign when the label only says which sign", () => {
    const signs = [line("GATE L21", 600, 200, { panel: "7b1fa2", ink: "ffffff" }), line("SEAT 31D", 600, 236, { panel: "7b1fa2", ink: "ffffff" }), line("NO SMOKING", 100, 500, { panel: "c62828", ink: "ffffff" })];
    expect(answer("Read the seat off the purple sign, please.", signs).text).toBe("31D");
    expect(answer("What does the no smoking sign say?", signs).text).toBe("NO SMOKING");
    expect(answer("Tell me what the smallest letters say", [line("BOTANIC GARDEN", 100, 100, { h: 18 }), line("EXIT", 600, 400, { h: 40 })]).text).toBe("BOTANIC GARDEN");
  });

  it("between two signs that fit equally, takes the one that reads as words over a reading of blur", () => {
    const signs = [line("DOCK 9", 300, 300, { h: 36 }), line("FER E TEOA", 800, 300, { h: 34, conf: 0.6 })];
    expect(answer("What's on the largest panel, please?", signs).text).toBe("DOCK 9");
  });

  it("picks by size", () => {
    const signs = [line("TINY", 100, 100, { h: 14 }), line("HUGE", 600, 300, { h: 48 }), line("MEDIUM", 1000, 500, { h: 26 })];
    expect(answer("What does the big sign say?", signs).text).toBe("HUGE");
    expect(answer("What is written on the smallest sign?", signs).text).toBe("TINY");
  });

  it("reads the most prominent text for a bare question, and asks which one when two are alike", () => {
    const one = [line("WELCOME", 500, 330, { h: 48 }), line("NO SMOKING", 40, 40, { h: 14 })];
    expect(answer("What does it say?", one).text).toBe("WELCOME");
    expect(answer("Read this.", one).text).toBe("WELCOME");
    const two = [line("HARBOR", 200, 340, { panel: "2050d0" }), line("VELVET", 900, 340, { panel: "d02020" })];
    const r = answer("What does it say?", two);
    expect(r.cannotAnswer).toBe(true);
    expect(r.text).toBe("I can read HARBOR and VELVET; which one do you mean?");
  });

  it("declines a colour nothing in view has, and says what it can read", () => {
    const r = answer("What is written on the purple sign?", STREET);
    expect(r.cannotAnswer).toBe(true);
    expect(r.text).toMatch(/^I cannot see (any such text|purple)/);
    expect(r.text).toMatch(/HARBOR/);
  });

  it("asks which one when two signs share the colour asked", () => {
    const twins = [line("HARBOR", 200, 340, { panel: "2050d0" }), line("MARINA", 900, 340, { panel: "2456d8" }), line("VELVET", 600, 100, { panel: "d02020" })];
    const r = answer("What does the blue sign say?", twins);
    expect(r.cannotAnswer).toBe(true);
    expect(r.text).toMatch(/HARBOR and MARINA/);
    // A further clue settles it.
    expect(answer("What does the blue sign on the right say?", twins).text).toBe("MARINA");
  });

  it("keeps two stacked signs of different colours apart", () => {
    const stacked = [line("HARBOR", 600, 300, { panel: "2050d0" }), line("VELVET", 600, 336, { panel: "d02020" })];
    expect(blocksOf(stacked)).toHaveLength(2);
    expect(answer("What does the red sign say?", stacked).text).toBe("VELVET");
  });

  it("puts the meant sign first in the region ranking, by colour as by label", () => {
    const r = rankRegions("What is written on the red sign?", STREET, 1280, 720);
    expect(r.matched).toBe(true);
    expect(r.boxes[0]!.label).toBe("VELVET");
    const g = ground(analyzeQuestion("What is written on the red sign?"), blocksOf(STREET), W);
    expect(g.kind).toBe("pick");
  });
});
