/**
 * Reads a video file's size, frame rate and duration from ffmpeg's own report (ffmpeg-static ships
 * no ffprobe, so the project does not depend on one), and turns a missing or unreadable file into
 * a typed error before any output is written.
 */
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { EncoderError } from "../errors.ts";
import { tail } from "./run.ts";

export interface VideoInfo {
  readonly width: number;
  readonly height: number;
  /** Frames per second, from the stream's r_frame_rate/avg rate; null when ffmpeg does not say. */
  readonly fps: number | null;
  /** Seconds; null when the container does not say. */
  readonly durationSec: number | null;
  readonly codec: string;
}

export function parseProbe(stderr: string): VideoInfo | null {
  const stream = /Stream #\d+:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Video: ([^\s,]+).*?, (\d{2,5})x(\d{2,5})/.exec(stderr);
  if (!stream) return null;
  const fps = /, ([\d.]+) fps/.exec(stderr) ?? /, ([\d.]+) tbr/.exec(stderr);
  const dur = /Duration: (\d+):(\d+):([\d.]+)/.exec(stderr);
  return {
    codec: stream[1]!,
    width: Number(stream[2]),
    height: Number(stream[3]),
    fps: fps ? Number(fps[1]) : null,
    durationSec: dur ? Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3]) : null,
  };
}

export async function probeVideo(ffmpegPath: string, path: string): Promise<VideoInfo> {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error("not a regular file");
    size = st.size;
  } catch (err) {
    throw new EncoderError("INPUT_MISSING", `input video ${path} does not exist or is not a file`, { cause: err });
  }
  if (size === 0) throw new EncoderError("INPUT_CORRUPT", `input video ${path} is empty (0 bytes)`);
  // `ffmpeg -i file` with no output prints the input's streams and exits with code 1 by design.
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn(ffmpegPath, ["-hide_banner", "-nostdin", "-i", path], { stdio: ["ignore", "ignore", "pipe"] });
    let text = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => (text += d));
    child.on("error", (err) => reject(new EncoderError("FFMPEG_NOT_FOUND", `could not run ffmpeg at ${ffmpegPath}`, { cause: err })));
    child.on("close", () => resolve(text));
  });
  const info = parseProbe(stderr);
  if (!info) {
    throw new EncoderError("INPUT_CORRUPT", `input video ${path} has no readable video stream: ${tail(stderr, 3)}`);
  }
  return info;
}
