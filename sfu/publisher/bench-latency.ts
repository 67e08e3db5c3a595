/**
 * Live encoder figures, printed (a benchmark, not a test): for H.264 in FLV and in Annex B, at 30
 * and 5 fps, the delay from a raw frame leaving the decoder to its encoded frame leaving the live
 * encoder (median and 90th percentile), the achieved bitrate, and what a restart costs (time from
 * setRate to the new encoder's first frame, and that keyframe's size against the average frame).
 *
 *   npx tsx sfu/publisher/bench-latency.ts [seconds per run, default 5]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { defaultClipSpec, generateClip } from "../../encoder/synth/clip.ts";
import type { H264Framing } from "./encoder-args.ts";
import { LiveEncoder, type EncodedFrame } from "./live-encoder.ts";

const seconds = Number(process.argv[2] ?? 5);
const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

const dir = mkdtempSync(join(tmpdir(), "bench-publisher-"));
try {
  const clip = await generateClip(ffmpeg, join(dir, "clip.mkv"), defaultClipSpec(3, { width: 640, height: 360, durationSec: 5, shakePx: 6 }));
  console.log("framing  fps  delay p50  delay p90   kbps  restart->frame  keyframe/avg frame");
  for (const fps of [30, 5]) {
    for (const framing of ["flv", "annexb"] as H264Framing[]) {
      const enc = new LiveEncoder({ ffmpeg, input: clip.path, loop: true, width: 640, height: 360, bitrateBps: 300_000, h264Framing: framing });
      const frames: Array<EncodedFrame & { emittedMs: number }> = [];
      enc.events.on("frame", (f) => frames.push({ ...f, emittedMs: now() }));
      enc.setRate({ maxFramerate: fps });
      await enc.start();
      await sleep(seconds * 1000);
      const restartAt = now();
      enc.setRate({ maxBitrateBps: 250_000 });
      await sleep(1500);
      await enc.close();
      const steady = frames.filter((f) => f.generation === 1 && f.captureMs > frames[0]!.captureMs + 1000);
      const delays = steady.map((f) => f.emittedMs - f.captureMs);
      const kbps = (steady.reduce((s, f) => s + f.data.length, 0) * 8) / (steady[steady.length - 1]!.captureMs - steady[0]!.captureMs);
      const firstNew = frames.find((f) => f.generation === 2);
      const avg = steady.reduce((s, f) => s + f.data.length, 0) / steady.length;
      console.log(
        `${framing.padEnd(7)} ${String(fps).padStart(4)} ${pct(delays, 0.5).toFixed(1).padStart(8)} ms ${pct(delays, 0.9).toFixed(1).padStart(8)} ms ${kbps.toFixed(0).padStart(6)} ${firstNew ? `${(firstNew.emittedMs - restartAt).toFixed(0)} ms`.padStart(15) : "-".padStart(15)} ${firstNew ? (firstNew.data.length / avg).toFixed(1).padStart(10) : "-"}x`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
