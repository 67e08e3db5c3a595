import { describe, expect, it } from "vitest";
import { clipFilterGraph } from "../../encoder/synth/clip.ts";
import { syntheticClips, TEXT_TASK } from "./synthetic.ts";

describe("syntheticClips", () => {
  const clips = syntheticClips({ seed: 3, clips: 8 });

  it("with the same seed, gives the same clips; with another, different ones", () => {
    expect(syntheticClips({ seed: 3, clips: 8 })).toEqual(clips);
    expect(syntheticClips({ seed: 4, clips: 8 })).not.toEqual(clips);
  });

  it("puts every text answer on the target sign, after the label word its question names", () => {
    for (const c of clips) {
      const target = c.spec.signs[0]!;
      const text = c.questions.filter((q) => q.taskType === TEXT_TASK);
      expect(text).toHaveLength(2);
      for (const q of text) {
        const line = target.lines.find((l) => l.includes(q.answer));
        expect(line, `${c.id}: "${q.answer}" on ${JSON.stringify(target.lines)}`).toBeDefined();
        const label = line!.split(" ")[0]!.toLowerCase();
        // The question names the label (allowing English endings: "open" / "OPENS", "expire" / "EXPIRES").
        if (c.kind !== "scoreboard" || !q.question.includes("score")) expect(q.question.toLowerCase()).toContain(label.replace(/s$/, ""));
      }
    }
  });

  it("gives each question a region inside the picture that covers its object", () => {
    for (const c of clips) {
      const sign = c.spec.signs[0]!;
      for (const q of c.questions) {
        for (const r of q.regions) {
          expect(r.x).toBeGreaterThanOrEqual(0);
          expect(r.y).toBeGreaterThanOrEqual(0);
          expect(r.x + r.width).toBeLessThanOrEqual(c.spec.width);
          expect(r.y + r.height).toBeLessThanOrEqual(c.spec.height);
        }
        if (q.taskType === TEXT_TASK) {
          const r = q.regions[0]!;
          expect(r.x <= sign.x && r.y <= sign.y && r.x + r.width >= sign.x + sign.width && r.y + r.height >= sign.y + sign.height).toBe(true);
        }
      }
    }
  });

  it("counts the squares it draws and names the colour of the corner one", () => {
    for (const c of clips) {
      const n = c.questions.find((q) => q.taskType === "Counting")!;
      expect(c.spec.boxes!.length - 1).toBe(Number(n.answer));
      expect(clipFilterGraph(c.spec)).toContain("drawbox=x=8:y=8");
    }
  });

  it("uses several fonts, sizes and kinds of object across the set", () => {
    expect(new Set(clips.map((c) => c.spec.signs[0]!.font)).size).toBeGreaterThan(1);
    expect(new Set(clips.map((c) => c.spec.signs[0]!.fontPx)).size).toBeGreaterThan(1);
    expect(new Set(clips.map((c) => c.kind))).toEqual(new Set(["sign", "label", "scoreboard", "price tag"]));
  });
});
