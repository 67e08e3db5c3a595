import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clipFilterGraph } from "../../encoder/synth/clip.ts";
import { FAMILIES, generateSyntheticSet, loadSyntheticSet, manifestOf, syntheticClips, TEXT_TASK, type SyntheticClip } from "./synthetic.ts";
import { COLOUR_NAMES } from "./synthetic/palette.ts";
import { allTemplates } from "./synthetic/questions.ts";
import type { TextObject } from "./synthetic/scene.ts";

const W = 1280;
const H = 720;
const cx = (o: TextObject) => o.x + o.width / 2;
const cy = (o: TextObject) => o.y + o.height / 2;
const fromCentre = (o: TextObject) => Math.hypot(cx(o) - W / 2, cy(o) - H / 2);
const area = (o: TextObject) => o.width * o.height;
const colourIn = (q: string) => COLOUR_NAMES.find((c) => new RegExp(`\\b${c}\\b`, "i").test(q));
const aboutLetters = (q: string) => /letters|text|writing|written in|printed in/i.test(q);

/** The direction a position question names, from its words. */
function directionIn(q: string): string | null {
  const s = q.toLowerCase();
  for (const d of ["top left", "top right", "bottom left", "bottom right"]) if (s.includes(d)) return d;
  if (/\b(middle|centre|center)\b/.test(s)) return "middle";
  for (const d of ["left", "right", "top", "bottom"]) if (new RegExp(`\\b${d}\\b`).test(s)) return d;
  return null;
}

/**
 * The layout maths of each rule, written out again here (not through layout.ts), so a mistake in
 * the generator's rules shows.
 */
function positionHolds(d: string, t: TextObject, others: readonly TextObject[]): boolean {
  const mx = 0.15 * W;
  const my = 0.15 * H;
  switch (d) {
    case "left": return cx(t) < 0.4 * W && others.every((o) => cx(o) - cx(t) >= mx);
    case "right": return cx(t) > 0.6 * W && others.every((o) => cx(t) - cx(o) >= mx);
    case "top": return cy(t) < 0.4 * H && others.every((o) => cy(o) - cy(t) >= my);
    case "bottom": return cy(t) > 0.6 * H && others.every((o) => cy(t) - cy(o) >= my);
    case "middle":
      return Math.abs(cx(t) - W / 2) <= mx && Math.abs(cy(t) - H / 2) <= my && others.every((o) => fromCentre(o) - fromCentre(t) >= my);
    default: {
      const sx = d.endsWith("left") ? -1 : 1;
      const sy = d.startsWith("top") ? -1 : 1;
      const inQuarter = (o: TextObject) => sx * (cx(o) - W / 2) > 0 && sy * (cy(o) - H / 2) > 0;
      const outer = sx * (cx(t) - W / 2) >= 0.15 * W && sy * (cy(t) - H / 2) >= 0.15 * H;
      return outer && others.every((o) => !inQuarter(o) && (sx * (cx(t) - cx(o)) >= mx || sy * (cy(t) - cy(o)) >= my));
    }
  }
}

describe("syntheticClips", () => {
  const clips = syntheticClips({ seed: 3, clips: 8 });
  const fifty = syntheticClips({ seed: 11, clips: 50 });

  it("with the same seed, gives the same clips and filter graphs; with another, different ones", () => {
    expect(syntheticClips({ seed: 3, clips: 8 })).toEqual(clips);
    expect(syntheticClips({ seed: 3, clips: 8 }).map((c) => clipFilterGraph(c.spec))).toEqual(clips.map((c) => clipFilterGraph(c.spec)));
    expect(syntheticClips({ seed: 4, clips: 8 })).not.toEqual(clips);
    // A larger set starts with the smaller one's clips (bench:network --clips compares on them).
    expect(syntheticClips({ seed: 3, clips: 20 }).slice(0, 8)).toEqual(clips);
    // Every word drawn passes drawtext's escaping (which refuses anything unsafe).
    for (const c of fifty) expect(() => clipFilterGraph(c.spec, { exists: () => true })).not.toThrow();
  });

  it("asks every family over the set, and each clip colour, colour-of, square colour, count and at least three text questions", () => {
    expect(new Set(fifty.flatMap((c) => c.questions.map((q) => q.family)))).toEqual(new Set(FAMILIES));
    for (const c of fifty) {
      const fams = c.questions.map((q) => q.family);
      for (const f of ["colour", "colour-of", "square-colour", "count"] as const) expect(fams, c.id).toContain(f);
      expect(c.questions.filter((q) => q.taskType === TEXT_TASK).length, c.id).toBeGreaterThanOrEqual(3);
      expect(new Set(c.questions.map((q) => q.id)).size).toBe(c.questions.length);
    }
  });

  it("holds a target and 2-4 other text objects, in distinct colour names, inside the frame, apart", () => {
    for (const c of fifty) {
      const objs = c.scene.objects;
      expect(objs.length, c.id).toBeGreaterThanOrEqual(3);
      expect(objs.length, c.id).toBeLessThanOrEqual(5);
      expect(new Set(objs.map((o) => o.panel.name)).size, c.id).toBe(objs.length);
      for (const o of objs) {
        expect(o.fontPx).toBeGreaterThanOrEqual(16);
        expect(o.fontPx).toBeLessThanOrEqual(40);
        expect(o.x >= 0 && o.y >= 0 && o.x + o.width <= W && o.y + o.height <= H, `${c.id} ${o.lines}`).toBe(true);
      }
      objs.forEach((a, i) => objs.slice(i + 1).forEach((b) => {
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${c.id}: ${a.lines} / ${b.lines}`).toBe(true);
      }));
    }
  });

  it("on 50 clips, makes each family's question unambiguous by the layout's maths", () => {
    for (const c of fifty) {
      const [t, ...others] = c.scene.objects as [TextObject, ...TextObject[]];
      const ctx = (q: { question: string }) => `${c.id}: ${q.question}`;
      for (const q of c.questions) {
        switch (q.family) {
          case "label": {
            // The answer stands on a target line after its label word, which no other object shows.
            const line = t.lines.find((l) => l.includes(q.answer))!;
            expect(line, ctx(q)).toBeDefined();
            const label = line.split(" ")[0]!;
            for (const o of others) expect(o.lines.join(" ").toUpperCase().split(" "), ctx(q)).not.toContain(label);
            break;
          }
          case "colour": {
            const name = colourIn(q.question)!;
            expect(name, ctx(q)).toBeDefined();
            if (aboutLetters(q.question) && name !== t.panel.name) {
              // "the red letters": coloured letters only on the target, and no panel of that colour.
              expect(t.ink.name, ctx(q)).toBe(name);
              expect(c.scene.objects.filter((o) => o.ink.name === name || o.panel.name === name), ctx(q)).toHaveLength(1);
            } else {
              expect(t.panel.name, ctx(q)).toBe(name);
            }
            break;
          }
          case "position": {
            const d = directionIn(q.question);
            expect(d, ctx(q)).not.toBeNull();
            expect(positionHolds(d!, t, others), `${ctx(q)} (${d})`).toBe(true);
            break;
          }
          case "size": {
            const big = /\b(big|large|biggest|largest)\b/i.test(q.question);
            for (const o of others) {
              if (big) expect(t.fontPx >= 1.4 * o.fontPx && t.height >= o.height && area(t) >= area(o), ctx(q)).toBe(true);
              else expect(t.fontPx <= 0.7 * o.fontPx && t.height <= o.height && area(t) <= area(o), ctx(q)).toBe(true);
            }
            break;
          }
          case "bare": {
            expect(t.lines, ctx(q)).toHaveLength(1);
            for (const o of others) {
              expect(t.fontPx >= 1.5 * o.fontPx, ctx(q)).toBe(true);
              expect(fromCentre(o) - fromCentre(t) >= 0.1 * H, ctx(q)).toBe(true);
              expect(Math.abs(cx(o) - W / 2) > 0.25 * W || Math.abs(cy(o) - H / 2) > 0.25 * H, ctx(q)).toBe(true);
            }
            break;
          }
          case "colour-of": {
            expect(q.answer, ctx(q)).toBe(aboutLetters(q.question) ? t.ink.name : t.panel.name);
            // The sign is named by its text (only the target shows it), by where it is or by its size.
            const quoted = t.lines[0]!;
            if (q.question.includes(quoted)) for (const o of others) expect(o.lines.join(" ").includes(quoted), ctx(q)).toBe(false);
            else expect(directionIn(q.question) !== null || /big|large|small|tiniest|little/.test(q.question), ctx(q)).toBe(true);
            break;
          }
          default:
            break;
        }
        if (["colour", "position", "size", "bare"].includes(q.family) && t.lines.length === 1) {
          // A one-line target: the reference is its whole text (one number at most in it), or the
          // value after its label when the question names the label ("What gate number is on ...").
          const label = c.scene.target.labels.find((l) => q.question.includes(l.noun));
          expect(q.answer, ctx(q)).toBe(label ? label.answer : t.lines[0]);
          expect(q.answer.split(/\s+/).filter((w) => /\d/.test(w)).length, ctx(q)).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it("gives each sign question the target's panel grown by the sway, inside the picture", () => {
    for (const c of fifty) {
      const t = c.scene.objects[0]!;
      const shake = c.spec.shakePx!;
      for (const q of c.questions.filter((x) => x.family !== "square-colour" && x.family !== "count")) {
        expect(q.regions).toEqual([{
          x: Math.max(0, t.x - shake), y: Math.max(0, t.y - shake),
          width: Math.min(W, t.x + t.width + shake) - Math.max(0, t.x - shake), height: Math.min(H, t.y + t.height + shake) - Math.max(0, t.y - shake),
        }]);
      }
    }
  });

  it("counts the squares it draws and names the colour of the corner one, as before", () => {
    for (const c of clips) {
      const n = c.questions.find((q) => q.family === "count")!;
      expect(c.spec.boxes!.length - 1).toBe(Number(n.answer));
      expect(n.taskType).toBe("Counting");
      expect(c.questions.find((q) => q.family === "square-colour")!.question).toBe("What color is the small square in the top left corner?");
      expect(clipFilterGraph(c.spec)).toContain("drawbox=x=8:y=8");
    }
  });

  it("varies fonts, sizes, backgrounds, layouts and target kinds across the set", () => {
    const objs = fifty.flatMap((c) => c.scene.objects);
    expect(new Set(objs.map((o) => o.face)).size).toBeGreaterThanOrEqual(10);
    expect(new Set(objs.map((o) => o.fontPx)).size).toBeGreaterThanOrEqual(15);
    expect(new Set(fifty.map((c) => c.scene.background.kind)).size).toBe(6);
    expect(new Set(fifty.map((c) => c.scene.layout))).toEqual(new Set(["prominent", "scattered"]));
    expect([...new Set(fifty.map((c) => c.kind))]).toEqual(expect.arrayContaining(["sign", "label", "scoreboard", "price tag", "label line", "place"]));
    expect(fifty.some((c) => c.scene.colouredInk)).toBe(true);
  });

  it("scales to other frame sizes and a single text size without failing (what it cannot ask, it leaves out)", () => {
    const small = syntheticClips({ seed: 3, clips: 4, width: 640, height: 360, fontSizes: [12] });
    for (const c of small) {
      expect(c.scene.objects.every((o) => o.fontPx === 12)).toBe(true);
      expect(c.questions.some((q) => q.family === "size" || q.family === "bare")).toBe(false);
      expect(c.questions.some((q) => q.family === "colour")).toBe(true);
    }
  });
});

describe("question templates", () => {
  it("has at least five wordings per family, both spellings of colour, with and without please or a question mark", () => {
    const t = allTemplates();
    for (const [name, list] of Object.entries(t)) expect(list.length, name).toBeGreaterThanOrEqual(5);
    const all = Object.values(t).flat();
    expect(all.some((q) => /\bcolour\b/.test(q)) && all.some((q) => /\bcolor\b/.test(q))).toBe(true);
    expect(all.some((q) => /please/i.test(q)) && all.some((q) => !/please/i.test(q))).toBe(true);
    expect(all.some((q) => !q.trim().endsWith("?"))).toBe(true);
  });
});

describe("the manifest", () => {
  const dir = mkdtempSync(join(tmpdir(), "syn-manifest-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const clips: SyntheticClip[] = syntheticClips({ seed: 5, clips: 3 });

  it("round-trips: every question comes back as a sample with its family, region and picture size", () => {
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifestOf(5, clips)));
    const samples = loadSyntheticSet(dir);
    const questions = clips.flatMap((c) => c.questions);
    expect(samples.map((s) => [s.id, s.question, s.answer, s.taskType, s.family, s.regions])).toEqual(
      questions.map((q) => [q.id, q.question, q.answer, q.taskType, q.family, q.regions]),
    );
    expect(samples[0]).toMatchObject({ dataset: "synthetic", videoPath: join(dir, "syn-5-0.mkv"), width: 1280, height: 720, durationSec: 5 });
  });

  it("with an old version-1 set, says what to do instead of misreading it", async () => {
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ version: 1, seed: 1, clips: [] }));
    expect(() => loadSyntheticSet(dir)).toThrow(/field version: the set is version 1, this devibench reads version 2.*Delete the folder .* or make a new set with `devibench generate/);
    // generate refuses to add new clips to an old set, before rendering anything.
    await expect(generateSyntheticSet("/nonexistent/ffmpeg", dir, { seed: 1, clips: 1 })).rejects.toThrow(/version 1/);
  });

  it("with a bad field, names it", () => {
    const m = manifestOf(5, clips);
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...m, clips: [{ ...m.clips[0], questions: [{ ...m.clips[0]!.questions[0], family: "shape" }] }] }));
    expect(() => loadSyntheticSet(dir)).toThrow(/field clips\.0\.questions\.0\.family/);
  });
});
