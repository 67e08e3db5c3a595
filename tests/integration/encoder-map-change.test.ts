/**
 * A region map that changes during a stream moves where the quality goes: measured on the decoded
 * frames before and after each change, for both routes (encoder region control and pre-filter).
 * The clip's camera sways, so no region stays sharp for free once the map has left it (a still
 * sign, once coded well, is kept by skip blocks whatever the map says).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { mapFromRegions, type Region } from "../../encoder/importance/map.ts";
import { encodeRung, type ContextRoute, type LadderRequest, type RungResult } from "../../encoder/ladder/ladder.ts";
import { measureRegionPsnr } from "../../encoder/metrics/measure.ts";
import { RoiPrefilter } from "../../encoder/prefilter/index.ts";
import { generateClip, randomSign, type ClipSpec } from "../../encoder/synth/clip.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const RUNG = { targetKbps: 100, width: 640, height: 360 };
let dir: string;
let spec: ClipSpec;
let clipPath: string;
let signA: Region;
let signB: Region;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "it-mapchange-"));
  const rng = mulberry32(11);
  spec = {
    width: 1280, height: 720, fps: 30, durationSec: 5, seed: 11, shakePx: 12,
    signs: [
      randomSign(rng, { x: 96, y: 96, width: 320, height: 90 }, 22),
      randomSign(rng, { x: 832, y: 520, width: 320, height: 90 }, 22),
    ],
  };
  clipPath = (await generateClip(ffmpeg, join(dir, "two-signs.mkv"), spec)).path;
  [signA, signB] = spec.signs.map((s) => ({ x: s.x, y: s.y, width: s.width, height: s.height })) as [Region, Region];
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function request(route: ContextRoute, schedule: Array<{ atSec: number; sign: Region }>): LadderRequest {
  return {
    ffmpeg, input: clipPath, sourceWidth: spec.width, sourceHeight: spec.height, fps: spec.fps,
    outDir: join(dir, route), codec: "h264", rungs: [RUNG], route,
    maps: schedule.map((e) => ({ atSec: e.atSec, map: mapFromRegions(spec.width, spec.height, 64, [e.sign], { dMaxPx: 160 }) })),
    prefilter: new RoiPrefilter({ mode: "blur" }),
    measureBoxes: [signA, signB],
  };
}

/** Per-frame PSNR gain (context minus baseline) inside one sign. */
async function gainPerFrame(r: RungResult, sign: Region): Promise<number[]> {
  const s = RUNG.width / spec.width;
  const box = { x: sign.x * s, y: sign.y * s, width: sign.width * s, height: sign.height * s };
  const measure = (file: string) =>
    measureRegionPsnr({ ffmpeg, referenceArgs: ["-i", clipPath], distortedArgs: ["-f", "h264", "-i", file], width: RUNG.width, height: RUNG.height, fps: spec.fps, boxes: [box] });
  const [b, c] = [await measure(r.baseline.output), await measure(r.context.output)];
  return c.perFrame.map((f, i) => f.roiDb - b.perFrame[i]!.roiDb);
}

const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

describe("a map that moves from sign A to sign B at 2.5 s", () => {
  for (const route of ["encoder-roi", "prefilter"] as const) {
    it(`through ${route}, favours A before the change and B after it`, async () => {
      const r = await encodeRung(request(route, [{ atSec: 0, sign: signA }, { atSec: 2.5, sign: signB }]), RUNG);
      const a = await gainPerFrame(r, signA);
      const b = await gainPerFrame(r, signB);
      // Leave 10 frames after the start and after the change for the rate control to settle.
      const before = mean(a.slice(10, 75)) - mean(b.slice(10, 75));
      const after = mean(b.slice(85)) - mean(a.slice(85));
      const msg = `A-minus-B gain before ${before.toFixed(2)} dB, B-minus-A gain after ${after.toFixed(2)} dB`;
      expect(before, msg).toBeGreaterThanOrEqual(3);
      expect(after, msg).toBeGreaterThanOrEqual(3);
    });
  }
});

describe("a map that alternates between A and B every 500 ms", () => {
  it("through the encoder's region control, the sign being mapped gains at least 3 dB more in every half-second", async () => {
    const schedule = Array.from({ length: 10 }, (_, k) => ({ atSec: k * 0.5, sign: k % 2 === 0 ? signA : signB }));
    const r = await encodeRung(request("encoder-roi", schedule), RUNG);
    const a = await gainPerFrame(r, signA);
    const b = await gainPerFrame(r, signB);
    const wins: number[] = [];
    for (let k = 0; k < 10; k++) {
      // The last 8 frames of each 15-frame half-second.
      const seg = (xs: number[]) => mean(xs.slice(k * 15 + 7, k * 15 + 15));
      const margin = k % 2 === 0 ? seg(a) - seg(b) : seg(b) - seg(a);
      wins.push(margin);
    }
    const msg = `mapped-minus-other gain per half-second: ${wins.map((w) => w.toFixed(1)).join(", ")} dB`;
    expect(Math.min(...wins), msg).toBeGreaterThanOrEqual(3);
  });
});
