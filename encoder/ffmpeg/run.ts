/**
 * Runs ffmpeg as a child process and turns its failures into typed errors. The last lines of
 * ffmpeg's stderr go into the message, because that is where ffmpeg says what went wrong.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { EncoderError } from "../errors.ts";

export interface FfmpegResult {
  readonly stderr: string;
  readonly stdout: Buffer;
}

export interface RunOptions {
  /** Bytes to write to ffmpeg's stdin (then closed). */
  readonly stdin?: Uint8Array;
  /** Kill ffmpeg when this signal aborts. */
  readonly signal?: AbortSignal;
  /** Keep stdout in memory (default false: ffmpeg writes to files). */
  readonly captureStdout?: boolean;
}

const STDERR_KEEP_BYTES = 64 * 1024;

export function tail(text: string, lines = 12): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Runs `ffmpeg args...` to completion. Rejects with FFMPEG_FAILED (exit code and stderr tail). */
export function runFfmpeg(ffmpegPath: string, args: readonly string[], options: RunOptions = {}): Promise<FfmpegResult> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      // -nostdin keeps ffmpeg from reading the terminal, unless we feed it through stdin.
      const head = options.stdin ? ["-hide_banner"] : ["-hide_banner", "-nostdin"];
      child = spawn(ffmpegPath, [...head, ...args], {
        stdio: [options.stdin ? "pipe" : "ignore", options.captureStdout ? "pipe" : "ignore", "pipe"],
        signal: options.signal,
      });
    } catch (err) {
      reject(new EncoderError("FFMPEG_NOT_FOUND", `could not start ffmpeg at ${ffmpegPath}`, { cause: err }));
      return;
    }
    let stderr = "";
    const out: Buffer[] = [];
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (d: string) => {
      stderr += d;
      if (stderr.length > STDERR_KEEP_BYTES * 2) stderr = stderr.slice(-STDERR_KEEP_BYTES);
    });
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.on("error", (err) => {
      const code = (err as NodeJS.ErrnoException).code === "ENOENT" ? "FFMPEG_NOT_FOUND" : "FFMPEG_FAILED";
      reject(new EncoderError(code, `ffmpeg at ${ffmpegPath} could not run: ${err.message}`, { cause: err }));
    });
    child.on("close", (code, signal) => {
      if (code === 0) {
        resolve({ stderr, stdout: Buffer.concat(out) });
      } else {
        reject(
          new EncoderError(
            "FFMPEG_FAILED",
            `ffmpeg ${signal ? `was killed by ${signal}` : `exited with code ${code}`}: ${tail(stderr)}`,
          ),
        );
      }
    });
    if (options.stdin && child.stdin) {
      child.stdin.on("error", () => {
        // ffmpeg may exit before reading everything; the close handler reports why.
      });
      child.stdin.end(options.stdin);
    }
  });
}
