/**
 * `npx tsx devibench/network/intra-floor.ts [--clips N] [--bitrate KBPS] [--fps LIST] [--json]`:
 * how many bits an intra-only 1280x720 frame needs for the embedded engine to read the synthetic
 * set's text, with and without the question's region map. The calibration behind
 * sfu/media/frame-rate-target.ts `minBitsPerIntraFrame`. A script that prints figures; asserts
 * nothing.
 *
 * Encodes with bench:network's own sender (sender.ts `ClipEncoder`, intra-only, x264 veryfast
 * zerolatency baseline, VBV of one second) at one bitrate and several frame rates, so bits per
 * frame = bitrate / fps; the context method is planned as bench:network plans it (run-clip.ts
 * `contextSender`). No network: every frame arrives. Each text question is asked at 1..5 s with
 * the frame captured then, and scored by DeViBench's normalised match.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { WorkerOcrEngine } from "../../sfu/mllm/embedded/worker-engine.ts";
import { devibenchPrompt } from "../../sfu/mllm/types.ts";
import { scoreAnswer } from "../run/score.ts";
import { loadBenchClips } from "./clips.ts";
import { contextSender, type MethodName, regionGroups } from "./run-clip.ts";
import { ClipEncoder, decodeReleased, type SenderSettings } from "./sender.ts";

const { values } = parseArgs({
  options: { clips: { type: "string" }, bitrate: { type: "string" }, fps: { type: "string" }, json: { type: "boolean" } },
  strict: true,
});
const clipsN = Number(values.clips ?? 10);
const bitrateBps = Number(values.bitrate ?? 600) * 1000;
const fpsList = (values.fps ?? "30,20,15,10,7,5").split(",").map(Number);
if (!Number.isInteger(clipsN) || clipsN < 1 || clipsN > 10) throw new Error(`--clips must be 1..10, got ${values.clips}`);
if (!(bitrateBps > 0) || fpsList.some((f) => !(f > 0 && f <= 30))) throw new Error("--bitrate must be > 0 and --fps a list of rates in (0, 30]");

const t0 = performance.now();
const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const cacheRoot = resolve(process.cwd(), ".cache", "devibench");
const cacheDir = join(cacheRoot, "network");
const askTimesMs = [1000, 2000, 3000, 4000, 5000];
const clips = await loadBenchClips(ffmpeg, cacheRoot, clipsN, console.log);
const engine = new WorkerOcrEngine();
const rows: Array<{ method: MethodName; fps: number; targetBitsPerFrame: number; meanBitsPerFrame: number; meanPackets: number; asks: number; correct: number }> = [];
try {
  await engine.warmUp();
  for (const method of ["baseline", "context"] as const) {
    for (const fps of fpsList) {
      let asks = 0;
      let correct = 0;
      let bits = 0;
      let packets = 0;
      let frames = 0;
      for (const clip of clips) {
        const base: SenderSettings = { codec: "h264", width: 1280, height: 720, fps, bitrateBps, mode: "intra" };
        for (const g of regionGroups(clip.samples, method)) {
          const settings = g.regions ? await contextSender(clip, g.regions, base, { ffmpeg, cacheDir }) : base;
          const enc = await ClipEncoder.open({ ffmpeg, input: clip.videoPath, durationSec: clip.durationSec, settings, cacheDir });
          const units: Uint8Array[] = [];
          for (let i = 0; i < enc.frameCount; i++) units.push((await enc.frame(i, false)).data);
          bits += units.reduce((n, u) => n + u.length * 8, 0);
          packets += units.reduce((n, u) => n + Math.ceil(u.length / 1200), 0);
          frames += units.length;
          // The frame captured at each ask time (every frame arrives here).
          const at = askTimesMs.map((t) => Math.min(units.length - 1, Math.floor((t * fps) / 1000) - 1));
          const decoded = await decodeReleased(ffmpeg, "h264", units, at, { width: 1280, height: 720 }, units.map((_, i) => Math.round((i * 1000) / fps)), cacheDir);
          for (const sample of g.samples) {
            for (const k of at) {
              const frame = decoded.get(k)!;
              const r = await engine.ask({ prompt: devibenchPrompt(sample.question), question: sample.question, frames: [frame] });
              asks++;
              if (!r.cannotAnswer && (await scoreAnswer("normalized-match", sample, r.text, undefined)).correct) correct++;
            }
          }
        }
      }
      const row = { method, fps, targetBitsPerFrame: Math.round(bitrateBps / fps), meanBitsPerFrame: Math.round(bits / frames), meanPackets: Math.round((packets / frames) * 10) / 10, asks, correct };
      rows.push(row);
      console.log(`[${Math.round((performance.now() - t0) / 1000)} s] ${method.padEnd(8)} ${String(fps).padStart(3)} fps  target ${(row.targetBitsPerFrame / 1000).toFixed(1)} kbit/frame, mean ${(row.meanBitsPerFrame / 1000).toFixed(1)} kbit (${row.meanPackets} packets)  accuracy ${((correct / asks) * 100).toFixed(1)}% (${correct}/${asks})`);
    }
  }
} finally {
  await engine.close();
}
console.log(`done in ${Math.round((performance.now() - t0) / 1000)} s`);
if (values.json) console.log(JSON.stringify({ bitrateBps, clips: clips.length, rows }));
