/**
 * Raw frames in and out of ffmpeg through pipes: a decoder that yields fixed-size frames, and an
 * encoder process that takes them. Used by the pre-filter route and by the quality metrics.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { EncoderError } from "../errors.ts";
import { tail } from "./run.ts";

export type RawPixelFormat = "gray" | "yuv420p" | "rgb24";

export function frameBytes(width: number, height: number, pixFmt: RawPixelFormat): number {
  if (pixFmt === "gray") return width * height;
  if (pixFmt === "rgb24") return width * height * 3;
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

export interface DecodeOptions {
  readonly ffmpeg: string;
  /** Input arguments placed before the output options (for example ["-i", "clip.mkv"]). */
  readonly inputArgs: readonly string[];
  readonly width: number;
  readonly height: number;
  readonly pixFmt: RawPixelFormat;
  /** Extra filters before scaling (comma-joined into -vf). */
  readonly filters?: readonly string[];
  /** Scaler flags; the same flags must be used wherever two pictures are compared. */
  readonly scaleFlags?: string;
  readonly maxFrames?: number;
}

/** Decodes to raw frames of exactly width x height; every frame is a fresh Uint8Array. */
export async function* decodeFrames(options: DecodeOptions): AsyncGenerator<Uint8Array> {
  const { ffmpeg, width, height, pixFmt, scaleFlags = "bicubic" } = options;
  const size = frameBytes(width, height, pixFmt);
  const vf = [...(options.filters ?? []), `scale=${width}:${height}:flags=${scaleFlags}`, `format=${pixFmt}`].join(",");
  const args = [
    "-hide_banner", "-nostdin", "-loglevel", "error",
    ...options.inputArgs,
    "-vf", vf,
    "-fps_mode", "passthrough",
    ...(options.maxFrames !== undefined ? ["-frames:v", String(options.maxFrames)] : []),
    "-f", "rawvideo", "-pix_fmt", pixFmt, "pipe:1",
  ];
  const child = spawn(ffmpeg, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => (stderr += d.slice(0, 4096)));
  const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const spawnError = new Promise<never>((_, reject) =>
    child.on("error", (err) => reject(new EncoderError("FFMPEG_NOT_FOUND", `could not run ffmpeg at ${ffmpeg}`, { cause: err }))),
  );
  spawnError.catch(() => {});
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let finished = false;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= size) {
        const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        const frame = new Uint8Array(size);
        frame.set(all.subarray(0, size));
        const rest = all.subarray(size);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
        yield frame;
      }
    }
    const code = await Promise.race([closed, spawnError]);
    finished = true;
    if (code !== 0) {
      throw new EncoderError("INPUT_CORRUPT", `decoding ${options.inputArgs.join(" ")} failed (exit ${code}): ${tail(stderr, 4)}`);
    }
  } finally {
    if (!finished) child.kill("SIGKILL");
  }
}

/** A long-running ffmpeg that reads raw frames on stdin; write() resolves when the pipe drains. */
export class RawFrameSink {
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = "";
  private readonly done: Promise<string>;

  constructor(ffmpeg: string, args: readonly string[]) {
    this.child = spawn(ffmpeg, ["-hide_banner", ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (d: string) => {
      this.stderr += d;
      if (this.stderr.length > 256 * 1024) this.stderr = this.stderr.slice(-128 * 1024);
    });
    this.child.stdout.resume();
    this.child.stdin.on("error", () => {
      // The close handler reports why ffmpeg stopped reading.
    });
    this.done = new Promise((resolve, reject) => {
      this.child.on("error", (err) => reject(new EncoderError("FFMPEG_NOT_FOUND", `could not run ffmpeg at ${ffmpeg}`, { cause: err })));
      this.child.on("close", (code, signal) => {
        if (code === 0) resolve(this.stderr);
        else reject(new EncoderError("FFMPEG_FAILED", `ffmpeg ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: ${tail(this.stderr)}`));
      });
    });
    this.done.catch(() => {});
  }

  async write(frame: Uint8Array): Promise<void> {
    if (!this.child.stdin.write(frame)) {
      await new Promise<void>((resolve) => {
        const onDone = () => {
          this.child.stdin.off("drain", onDone);
          this.child.off("close", onDone);
          resolve();
        };
        this.child.stdin.on("drain", onDone);
        this.child.on("close", onDone);
      });
    }
  }

  /** Closes stdin and waits for ffmpeg; resolves to its stderr. */
  async finish(): Promise<string> {
    this.child.stdin.end();
    return this.done;
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}
