/**
 * Times the pre-filter on one core: ms per frame for each mode at 640x360 and 1280x720, with the
 * map reused (the usual case), with a new map object every frame (a moving region), and on RGBA
 * canvas pixels (the browser path) with the map reused.
 *
 *   npx tsx encoder/prefilter/bench-prefilter.ts
 *
 * Frames are seeded noise plus a gradient: noise is the worst case for nothing (the kernels cost the
 * same on any content) but makes the numbers reproducible.
 */
import { mapFromRegions } from "../importance/map.ts";
import { createI420, RoiPrefilter, type PrefilterMode } from "./prefilter.ts";
import { mulberry32 } from "../synth/prng.ts";


function frameOf(w: number, h: number, seed: number) {
  const f = createI420(w, h);
  const rnd = mulberry32(seed);
  for (let i = 0; i < f.y.length; i++) f.y[i] = ((i % w) * 200) / w + rnd() * 55;
  for (let i = 0; i < f.u.length; i++) f.u[i] = 100 + rnd() * 56;
  for (let i = 0; i < f.v.length; i++) f.v[i] = 100 + rnd() * 56;
  return f;
}

const MODES: PrefilterMode[] = ["blur", "downsample", "flatten"];
const FRAMES = 60;

for (const [w, h] of [[640, 360], [1280, 720]] as const) {
  const src = frameOf(w, h, 1);
  const out = createI420(w, h);
  // A face-sized region off centre, 16 px blocks, Artic's fall-off.
  const region = (k: number) => [{ x: w * 0.3 + k, y: h * 0.2, width: w * 0.25, height: h * 0.5 }];
  const still = mapFromRegions(w, h, 16, region(0));
  const moving = Array.from({ length: FRAMES }, (_, k) => mapFromRegions(w, h, 16, region(k * 4)));
  for (const mode of MODES) {
    const pf = new RoiPrefilter({ mode });
    for (let k = 0; k < 10; k++) pf.applyI420(src, moving[k % FRAMES]!, out); // warm up the JIT
    let t0 = performance.now();
    for (let k = 0; k < FRAMES; k++) pf.applyI420(src, still, out);
    const msStill = (performance.now() - t0) / FRAMES;
    t0 = performance.now();
    for (let k = 0; k < FRAMES; k++) pf.applyI420(src, moving[k]!, out);
    const msMoving = (performance.now() - t0) / FRAMES;
    const rgba = new Uint8ClampedArray(w * h * 4).map((_, i) => src.y[i >> 2]!);
    const rgbaOut = new Uint8ClampedArray(rgba.length);
    const pfRgba = new RoiPrefilter({ mode });
    for (let k = 0; k < 10; k++) pfRgba.applyRgba(rgba, w, h, still, rgbaOut);
    t0 = performance.now();
    for (let k = 0; k < FRAMES; k++) pfRgba.applyRgba(rgba, w, h, still, rgbaOut);
    const msRgba = (performance.now() - t0) / FRAMES;
    console.log(
      `${w}x${h} ${mode.padEnd(10)} I420 ${msStill.toFixed(2)} ms/frame (same map), ${msMoving.toFixed(2)} ms/frame (new map every frame); RGBA ${msRgba.toFixed(2)} ms/frame`,
    );
  }
}
