/**
 * The live encoder's two child processes (the shell around encoder-args.ts and framing.ts):
 *
 * - `RawVideoSource`: ffmpeg #1, decodes the file in real time to raw I420 frames.
 * - `EncoderProcess`: ffmpeg #2, takes raw frames on stdin and gives encoded frames back, each
 *   paired with what the caller attached to its input frame (first in, first out: the encoder
 *   arguments guarantee one frame out per frame in, in order).
 *
 * Both report how they ended exactly once, through `exited`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { frameBytes } from "../../encoder/ffmpeg/frames.ts";
import { tail } from "../../encoder/ffmpeg/run.ts";
import { PublisherError } from "./errors.ts";
import type { FrameReader } from "./framing.ts";

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when we asked it to stop (kill or end of input). */
  readonly requested: boolean;
  readonly stderrTail: string;
  /** Set when the process could not start or its output was malformed. */
  readonly error?: PublisherError;
}

const STDERR_KEEP = 16 * 1024;

abstract class Child {
  protected readonly child: ChildProcessWithoutNullStreams;
  protected stderr = "";
  protected requested = false;
  private failure: PublisherError | undefined;
  readonly exited: Promise<ProcessExit>;
  /** Resolves once the process runs; rejects when it cannot start (no ffmpeg at that path). */
  readonly spawned: Promise<void>;
  private running = true;

  constructor(ffmpeg: string, args: readonly string[]) {
    this.child = spawn(ffmpeg, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (d: string) => {
      this.stderr = (this.stderr + d).slice(-STDERR_KEEP);
    });
    this.child.stdin.on("error", () => {
      // EPIPE when ffmpeg stops reading: `exited` says why.
    });
    this.spawned = new Promise((resolve, reject) => {
      this.child.once("spawn", () => resolve());
      this.child.once("error", (err) => reject(new PublisherError("ENCODER_FAILED", `could not run ffmpeg at ${ffmpeg}: ${err.message}`, { cause: err })));
    });
    this.spawned.catch(() => {});
    this.exited = new Promise((resolve) => {
      this.child.once("error", (err) => {
        this.failure ??= new PublisherError("ENCODER_FAILED", `could not run ffmpeg at ${ffmpeg}: ${err.message}`, { cause: err });
      });
      this.child.once("close", (code, signal) => {
        this.running = false;
        const exit: ProcessExit = { code, signal, requested: this.requested, stderrTail: tail(this.stderr, 6) };
        resolve(this.failure ? { ...exit, error: this.failure } : exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.running ? this.child.pid : undefined;
  }

  get alive(): boolean {
    return this.running;
  }

  /** Stops at once (SIGKILL) and resolves when the process is gone. */
  kill(): Promise<ProcessExit> {
    this.requested = true;
    if (this.running) this.child.kill("SIGKILL");
    return this.exited;
  }

  protected fail(err: PublisherError): void {
    this.failure ??= err;
    void this.kill();
  }
}

/** ffmpeg #1: raw frames of exactly `width x height` I420, each a fresh buffer. */
export class RawVideoSource extends Child {
  private readonly frameSize: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;

  constructor(ffmpeg: string, args: readonly string[], width: number, height: number, onFrame: (frame: Uint8Array, index: number) => void) {
    super(ffmpeg, args);
    this.frameSize = frameBytes(width, height, "yuv420p");
    this.child.stdin.end();
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      while (this.pendingBytes >= this.frameSize) {
        const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
        const frame = new Uint8Array(this.frameSize);
        frame.set(all.subarray(0, this.frameSize));
        const rest = all.subarray(this.frameSize);
        this.pending = rest.length > 0 ? [rest] : [];
        this.pendingBytes = rest.length;
        onFrame(frame, this.index++);
      }
    });
  }
}

export interface EncodedOutput<M> {
  readonly data: Uint8Array;
  /** What was attached to the input frame this one came from (undefined if the encoder made more). */
  readonly meta: M | undefined;
}

/** ffmpeg #2: a raw frame in, an encoded frame out. */
export class EncoderProcess<M> extends Child {
  private readonly inFlight: M[] = [];
  private writing = false;

  constructor(ffmpeg: string, args: readonly string[], reader: FrameReader, onFrame: (out: EncodedOutput<M>) => void) {
    super(ffmpeg, args);
    this.child.stdout.on("data", (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        return this.fail(err instanceof PublisherError ? err : new PublisherError("STREAM_MALFORMED", String(err), { cause: err }));
      }
      for (const data of frames) onFrame({ data, meta: this.inFlight.shift() });
    });
    this.child.stdout.on("end", () => {
      try {
        for (const data of reader.flush()) onFrame({ data, meta: this.inFlight.shift() });
      } catch {
        // A frame cut short at the end is dropped.
      }
    });
  }

  /** Frames written whose encoded frame has not come out yet. */
  get pendingFrames(): number {
    return this.inFlight.length;
  }

  /**
   * Writes one raw frame unless the previous one is still in the pipe (the encoder is behind): a
   * live source drops frames rather than queueing them. False when the frame was not taken.
   */
  write(frame: Uint8Array, meta: M): boolean {
    if (this.writing || this.requested || !this.alive) return false;
    this.inFlight.push(meta);
    if (!this.child.stdin.write(frame)) {
      this.writing = true;
      this.child.stdin.once("drain", () => {
        this.writing = false;
      });
    }
    return true;
  }

  /**
   * Closes stdin so ffmpeg encodes what it has and exits; SIGKILL after `timeoutMs`. Frames still
   * come out through `onFrame` until it has.
   */
  end(timeoutMs = 2000): Promise<ProcessExit> {
    this.requested = true;
    this.child.stdin.end();
    const timer = setTimeout(() => void this.kill(), timeoutMs);
    timer.unref();
    return this.exited.finally(() => clearTimeout(timer));
  }
}
