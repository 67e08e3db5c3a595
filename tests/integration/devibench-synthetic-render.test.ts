/**
 * The synthetic set as rendered by ffmpeg: two clips (a still striped background with coloured
 * letters on a white panel, and the moving texture), cut to one second to keep the test short,
 * their first frame decoded to RGB. Every panel must show the colour its question names.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { runFfmpeg } from "../../encoder/ffmpeg/run.ts";
import { generateClip } from "../../encoder/synth/clip.ts";
import { syntheticClips, type SyntheticClip } from "../../devibench/datasets/synthetic.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
let dir: string;
const all = syntheticClips({ seed: 1, clips: 6 });
const chosen: SyntheticClip[] = [all[3]!, all[5]!];
const frames = new Map<string, Buffer>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "it-syn-render-"));
  for (const c of chosen) {
    const path = join(dir, `${c.id}.mkv`);
    await generateClip(ffmpeg, path, { ...c.spec, durationSec: 1 });
    const out = await runFfmpeg(ffmpeg, ["-v", "error", "-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], { captureStdout: true });
    frames.set(c.id, out.stdout);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rgb = (hex: string) => {
  const v = Number.parseInt(hex.slice(2), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
};

describe("a rendered synthetic clip", () => {
  it("covers a still background and the moving texture, and coloured letters", () => {
    expect(chosen.map((c) => c.scene.background.kind)).toEqual(["stripes", "texture"]);
    expect(chosen[0]!.scene.colouredInk).toBe(true);
  });

  it("shows each panel in the colour it was given (median over the panel, as the first frame sways it)", () => {
    for (const c of chosen) {
      const buf = frames.get(c.id)!;
      const w = c.spec.width;
      expect(buf.length).toBe(w * c.spec.height * 3);
      // The sway at t = 0 lifts the picture by shakePx (crop y = 2 x shake of a frame padded by shake).
      const dy = -c.spec.shakePx!;
      for (const o of c.scene.objects) {
        const chan: number[][] = [[], [], []];
        for (let y = o.y + 2; y < o.y + o.height - 2; y++) {
          for (let x = o.x + 2; x < o.x + o.width - 2; x++) {
            const yy = y + dy;
            if (yy < 0) continue;
            const k = (yy * w + x) * 3;
            for (let i = 0; i < 3; i++) chan[i]!.push(buf[k + i]!);
          }
        }
        const median = chan.map((v) => v.sort((a, b) => a - b)[v.length >> 1]!);
        const want = rgb(o.panel.hex);
        const off = Math.max(...median.map((v, i) => Math.abs(v - want[i]!)));
        expect(off, `${c.id} "${o.lines.join(" / ")}" ${o.panel.name} ${o.panel.hex}: got rgb(${median.join(",")})`).toBeLessThanOrEqual(14);
      }
    }
  });

  it("draws the text: the target panel holds pixels of its letter colour", () => {
    const c = chosen[0]!;
    const t = c.scene.objects[0]!;
    const buf = frames.get(c.id)!;
    const want = rgb(t.ink.hex);
    let near = 0;
    for (let y = t.y; y < t.y + t.height - c.spec.shakePx!; y++) {
      for (let x = t.x; x < t.x + t.width; x++) {
        const k = (y * c.spec.width + x) * 3;
        if (Math.max(...[0, 1, 2].map((i) => Math.abs(buf[k + i]! - want[i]!))) <= 40) near++;
      }
    }
    expect(near).toBeGreaterThan(20);
  });
});
