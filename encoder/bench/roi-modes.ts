/**
 * npm run bench:roi-modes
 *
 * Which encoder rate-control modes honour FFmpeg's region-of-interest side data (what `addroi`
 * writes)? Encodes the bench clip at 640x360 in each mode twice, without and with a finer region
 * on the sign (QP offset -25), and prints the achieved bitrate and the sign's PSNR. A mode that
 * ignores ROI gives the same bytes both times; ffmpeg's warning, if any, is shown.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addroiChain } from "../ffmpeg/filtergraph.ts";
import { resolveFfmpeg } from "../ffmpeg/resolve.ts";
import { runFfmpeg } from "../ffmpeg/run.ts";
import { measureRegionPsnr } from "../metrics/measure.ts";
import { defaultClipSpec, generateClip, signRegions } from "../synth/clip.ts";

const MODES: Array<{ name: string; codec: "h264" | "vp8" | "vp9"; args: string[] }> = [
  { name: "x264 ABR (-b:v)", codec: "h264", args: ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-b:v", "100k"] },
  { name: "x264 CRF 30", codec: "h264", args: ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30"] },
  { name: "x264 constant QP (-qp 30)", codec: "h264", args: ["-c:v", "libx264", "-preset", "veryfast", "-qp", "30"] },
  { name: "x264 ABR, -aq-mode 0", codec: "h264", args: ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "100k", "-aq-mode", "0"] },
  { name: "VP8 good, VBR", codec: "vp8", args: ["-c:v", "libvpx", "-b:v", "100k", "-deadline", "good", "-cpu-used", "4"] },
  { name: "VP8 realtime, CBR", codec: "vp8", args: ["-c:v", "libvpx", "-b:v", "100k", "-minrate", "100k", "-maxrate", "100k", "-deadline", "realtime", "-cpu-used", "8"] },
  { name: "VP8 realtime, error resilient", codec: "vp8", args: ["-c:v", "libvpx", "-b:v", "100k", "-deadline", "realtime", "-cpu-used", "8", "-error-resilient", "default"] },
  { name: "VP8 constrained quality (-crf 30)", codec: "vp8", args: ["-c:v", "libvpx", "-crf", "30", "-b:v", "1M", "-deadline", "good", "-cpu-used", "4"] },
  { name: "VP9 realtime, cpu-used 5, aq-mode 0", codec: "vp9", args: ["-c:v", "libvpx-vp9", "-b:v", "100k", "-deadline", "realtime", "-cpu-used", "5", "-aq-mode", "0"] },
  { name: "VP9 good (defaults)", codec: "vp9", args: ["-c:v", "libvpx-vp9", "-b:v", "100k", "-deadline", "good", "-cpu-used", "4"] },
];

async function main(): Promise<void> {
  const ffmpeg = resolveFfmpeg({ env: process.env }).path;
  const dir = mkdtempSync(join(tmpdir(), "roi-modes-"));
  try {
    const spec = defaultClipSpec(1);
    const clip = await generateClip(ffmpeg, join(dir, "clip.mkv"), spec);
    const s = 640 / spec.width;
    const sign = signRegions(spec)[0]!;
    const box = { x: sign.x * s, y: sign.y * s, width: sign.width * s, height: sign.height * s };
    const roi = addroiChain([{ x: Math.floor(box.x / 16) * 16, y: Math.floor(box.y / 16) * 16, width: Math.ceil(box.width / 16) * 16 + 16, height: Math.ceil(box.height / 16) * 16 + 16, qpOffset: -25 }], "h264");
    console.log(`mode | ROI off: kbps, sign PSNR | ROI on: kbps, sign PSNR | honoured | ffmpeg says`);
    for (const mode of MODES) {
      const row: string[] = [];
      let warning = "";
      const bytes: number[] = [];
      for (const on of [false, true]) {
        const out = join(dir, `m-${on}.mkv`);
        // qoffset is a fraction of each codec's range; -25/51 of x264's range, about -0.49 of libvpx's.
        const res = await runFfmpeg(ffmpeg, ["-y", "-loglevel", "warning", "-i", clip.path, "-vf", `scale=640:360:flags=bicubic${on ? `,${roi}` : ""}`, ...mode.args, "-f", "matroska", out]);
        if (on) warning = res.stderr.split("\n").find((l) => /roi|adaptive quant/i.test(l))?.replace(/^\[[^\]]*\]\s*/, "") ?? "";
        const size = readFileSync(out).length;
        bytes.push(size);
        const p = await measureRegionPsnr({ ffmpeg, referenceArgs: ["-i", clip.path], distortedArgs: ["-i", out], width: 640, height: 360, fps: spec.fps, boxes: [box] });
        row.push(`${((size * 8) / spec.durationSec / 1000).toFixed(0)} kbps, ${p.roiPsnrDb.toFixed(2)} dB`);
      }
      console.log(`${mode.name} | ${row[0]} | ${row[1]} | ${bytes[0] === bytes[1] ? "no" : "yes"} | ${warning}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:roi-modes failed: ${(err as Error).message}`);
  process.exit(1);
});
