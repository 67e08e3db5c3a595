/**
 * The clips bench:network and its calibration (intra-floor.ts) run on: the synthetic DeViBench
 * set (seed 1, clips of 5 s at 1280x720: the first `count`, 10 by default), text questions only
 * (the embedded engine reads text).
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { defaultSyntheticDir, generateSyntheticSet, loadSyntheticSet, TEXT_TASK } from "../datasets/synthetic.ts";
import type { Sample } from "../types.ts";
import type { ClipInput } from "./run-clip.ts";

export async function loadBenchClips(ffmpeg: string, cacheRoot: string, count: number, log: (line: string) => void): Promise<ClipInput[]> {
  // Clip n of a set depends only on the seed and n, so the first 10 clips of a larger set are the
  // 10-clip set's: a run with more clips adds clips and keeps the figures of the first ten comparable.
  const size = Math.max(10, count);
  const setDir = join(cacheRoot, basename(defaultSyntheticDir(1, size)));
  if (!existsSync(join(setDir, "manifest.json"))) {
    log(`generating the synthetic set in ${setDir}`);
    await generateSyntheticSet(ffmpeg, setDir, { seed: 1, clips: size }, (done, total) => log(`  clip ${done}/${total}`));
  }
  const byClip = new Map<string, Sample[]>();
  for (const s of loadSyntheticSet(setDir)) {
    if (s.taskType !== TEXT_TASK || s.videoPath === null) continue;
    byClip.set(s.videoPath, [...(byClip.get(s.videoPath) ?? []), s]);
  }
  const chosen = [...byClip].slice(0, count);
  return chosen.map(([videoPath, samples], index) => {
    const first = samples[0]!;
    if (first.width === undefined || first.height === undefined) throw new Error(`synthetic sample ${first.id} has no picture size in the manifest`);
    return {
      id: first.id.replace(/-t\d+$/, ""), videoPath, durationSec: first.durationSec, sourceWidth: first.width, sourceHeight: first.height,
      samples, index, of: chosen.length,
    };
  });
}
