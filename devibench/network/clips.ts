/**
 * The clips bench:network and its calibration (intra-floor.ts) run on: the synthetic DeViBench
 * set (seed 1, 10 clips of 5 s at 1280x720), text questions only (the embedded engine reads text).
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { defaultSyntheticDir, generateSyntheticSet, loadSyntheticSet, TEXT_TASK } from "../datasets/synthetic.ts";
import type { Sample } from "../types.ts";
import type { ClipInput } from "./run-clip.ts";

export async function loadBenchClips(ffmpeg: string, cacheRoot: string, count: number, log: (line: string) => void): Promise<ClipInput[]> {
  const setDir = join(cacheRoot, basename(defaultSyntheticDir(1, 10)));
  if (!existsSync(join(setDir, "manifest.json"))) {
    log(`generating the synthetic set in ${setDir}`);
    await generateSyntheticSet(ffmpeg, setDir, { seed: 1, clips: 10 }, (done, total) => log(`  clip ${done}/${total}`));
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
