/**
 * One long-lived ffmpeg per received stream: encoded frames in on stdin, packed RGB24 frames of a
 * fixed size out on stdout (thin shell; the decisions are in the jitter buffer).
 *
 * Input framing: both codecs go in IVF frame records (32-byte file header, then a 12-byte header
 * per frame: size and a 64-bit pts), H.264 as Annex B access units under the "H264" fourcc. A raw
 * Annex B pipe would cost one frame of latency, because ffmpeg's H.264 parser only knows an access
 * unit has ended when the next one begins; IVF says where each frame ends.
 *
 * Matching outputs to inputs: each input frame gets pts = its index, `-copyts` keeps it, and the
 * `showinfo` filter logs it to stderr for every frame that reaches the output. The k-th frame on
 * stdout is the k-th showinfo line, so a frame the decoder refused (corrupt data) shows up as a
 * skipped index: it is counted in `framesDroppedByDecoder`, the chain is treated as broken and
 * `onKeyframeNeeded` fires. Frames the jitter buffer marks undecodable are not fed at all.
 *
 * Low latency (measured on ffmpeg 5.1): `-threads 1` on the input (no frame-threading delay in the
 * decoder) and on the output (the rawvideo encoder frame-threads too, holding one frame back),
 * `-flags low_delay`, `-probesize 32 -analyzeduration 0`, `-fps_mode passthrough`, `-flush_packets 1`.
 * `-fflags nobuffer` is left out on purpose: it discards the packets read while probing the input,
 * i.e. the first keyframe, and nothing decodes until the next one.
 *
 * If ffmpeg dies, the pending frames are dropped, the death is logged, and the next keyframe starts
 * a new process (counted in `restarts`, at most `maxRestarts`). Nothing here throws at the caller.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import type { RtpVideoCodec } from "../../encoder/rtp/index.ts";
import type { VideoFrame } from "../mllm/types.ts";
import { MediaError, type MediaLog, safeCall, silentLog } from "./errors.ts";
import { ivfFileHeader, ivfFrameHeader, parseShowinfoPts } from "./ivf.ts";

export interface EncodedFrame {
  /** VP8 frame or H.264 Annex B access unit. */
  readonly data: Uint8Array;
  readonly keyframe: boolean;
  /** Capture (media) time carried through to the decoded frame. */
  readonly timestampMs: number;
  /** When the frame's last RTP packet arrived, on the decoder's clock. */
  readonly lastPacketArrivalMs: number;
}

export interface DecodedFrame extends VideoFrame {
  readonly keyframe: boolean;
  readonly lastPacketArrivalMs: number;
  readonly decodedMs: number;
  /** decodedMs - lastPacketArrivalMs: jitter-buffer wait excluded, decode and pipes included. */
  readonly receiveLatencyMs: number;
}

export interface StreamDecoderOptions {
  readonly ffmpeg: string;
  readonly codec: RtpVideoCodec;
  /** Output size; ffmpeg scales (bicubic) whatever the stream's size is. */
  readonly width: number;
  readonly height: number;
  readonly onFrame: (frame: DecodedFrame) => void;
  /** The decoder needs a keyframe before it can go on (restart, refused frame, delta before any key). */
  readonly onKeyframeNeeded?: () => void;
  /** Milliseconds; must be the clock the arrival times come from. Default `performance.now()`. */
  readonly clock?: () => number;
  readonly log?: MediaLog;
  /** Default 5. After that many restarts the decoder stays down and drops frames. */
  readonly maxRestarts?: number;
  /** Frames are dropped (until the next keyframe) while more than this many bytes wait in stdin. Default 4 MiB. */
  readonly maxQueuedBytes?: number;
}

export interface DecoderCounters {
  framesIn: number;
  framesOut: number;
  framesDroppedByDecoder: number;
  /** Delta frames refused because this ffmpeg has not seen a keyframe yet. */
  framesDroppedBeforeKeyframe: number;
  framesDroppedBackpressure: number;
  /** Frames pending in a process that died. */
  framesDroppedOnExit: number;
  /** stderr lines of ffmpeg that mention an error. */
  decodeErrors: number;
  restarts: number;
}

interface Proc {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pending: Map<number, EncodedFrame & { index: number }>;
  nextIndex: number;
  gotKeyframe: boolean;
  readonly rgb: Uint8Array[];
  readonly pts: number[];
  chunks: Buffer[];
  chunkBytes: number;
  stderrLine: string;
  stderrTail: string[];
  readonly exited: Promise<void>;
}

export class StreamDecoder {
  private proc: Proc | undefined;
  private starts = 0;
  private closing = false;
  private dropUntilKeyframe = false;
  private readonly clock: () => number;
  private readonly log: MediaLog;
  private readonly frameBytes: number;
  private readonly c: DecoderCounters = {
    framesIn: 0, framesOut: 0, framesDroppedByDecoder: 0, framesDroppedBeforeKeyframe: 0,
    framesDroppedBackpressure: 0, framesDroppedOnExit: 0, decodeErrors: 0, restarts: 0,
  };

  constructor(private readonly opts: StreamDecoderOptions) {
    for (const k of ["width", "height"] as const) {
      const v = opts[k];
      if (!Number.isInteger(v) || v < 2 || v % 2 !== 0) {
        throw new MediaError("INVALID_OPTION", `StreamDecoder ${k} must be an even integer >= 2, got ${v}`);
      }
    }
    this.clock = opts.clock ?? (() => performance.now());
    this.log = opts.log ?? silentLog;
    this.frameBytes = opts.width * opts.height * 3;
  }

  get counters(): Readonly<DecoderCounters> {
    return { ...this.c };
  }

  /** Process id of the running ffmpeg, if any (for diagnostics and tests). */
  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  /** Frames written and not yet decoded. */
  get pendingFrames(): number {
    return this.proc?.pending.size ?? 0;
  }

  /**
   * Starts ffmpeg ahead of the first frame, so process start-up and input probing do not land on
   * the first keyframe's latency. Otherwise the first keyframe starts it.
   */
  start(): void {
    if (!this.proc && !this.closing && this.starts === 0) this.spawn();
  }

  /** Hands a frame to ffmpeg. Returns false when it was dropped (see counters); never throws. */
  decode(frame: EncodedFrame): boolean {
    if (this.closing) return false;
    this.c.framesIn++;
    if (frame.keyframe) this.dropUntilKeyframe = false;
    if (!this.proc && frame.keyframe) this.spawn();
    const p = this.proc;
    if (!p || this.dropUntilKeyframe || (!p.gotKeyframe && !frame.keyframe)) {
      this.c.framesDroppedBeforeKeyframe++;
      safeCall(this.log, "onKeyframeNeeded", this.opts.onKeyframeNeeded);
      return false;
    }
    if (p.child.stdin.writableLength > (this.opts.maxQueuedBytes ?? 4 << 20)) {
      this.c.framesDroppedBackpressure++;
      this.dropUntilKeyframe = true;
      this.log({ level: "warn", msg: "decoder is behind; dropping frames until the next keyframe", queuedBytes: p.child.stdin.writableLength });
      safeCall(this.log, "onKeyframeNeeded", this.opts.onKeyframeNeeded);
      return false;
    }
    if (frame.keyframe) p.gotKeyframe = true;
    const index = p.nextIndex++;
    p.pending.set(index, { ...frame, index });
    p.child.stdin.write(ivfFrameHeader(frame.data.length, index));
    p.child.stdin.write(frame.data);
    return true;
  }

  /** Ends ffmpeg's input, lets it flush the frames it holds, and resolves once it has exited. */
  async close(): Promise<void> {
    this.closing = true;
    const p = this.proc;
    if (!p) return;
    p.child.stdin.end();
    const timer = setTimeout(() => p.child.kill("SIGKILL"), 3000);
    await p.exited;
    clearTimeout(timer);
  }

  private spawn(): void {
    if (this.starts > 0) {
      if (this.c.restarts >= (this.opts.maxRestarts ?? 5)) return;
      this.c.restarts++;
    }
    this.starts++;
    const { width, height } = this.opts;
    const args = [
      "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
      "-probesize", "32", "-analyzeduration", "0", "-flags", "low_delay", "-threads", "1",
      "-f", "ivf", "-i", "pipe:0",
      "-copyts", "-vf", `showinfo,scale=${width}:${height}:flags=bicubic,format=rgb24`,
      "-threads", "1", "-filter_threads", "1", "-fps_mode", "passthrough", "-enc_time_base", "-1", "-flush_packets", "1",
      "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
    ];
    const child = spawn(this.opts.ffmpeg, args, { stdio: ["pipe", "pipe", "pipe"] });
    let onExit!: () => void;
    const exited = new Promise<void>((resolve) => (onExit = resolve));
    const p: Proc = {
      child, pending: new Map(), nextIndex: 0, gotKeyframe: false, rgb: [], pts: [], chunks: [], chunkBytes: 0,
      stderrLine: "", stderrTail: [], exited,
    };
    this.proc = p;
    let gone = false;
    const die = (why: string, cause?: unknown) => {
      if (gone) return;
      gone = true;
      onExit();
      if (this.proc === p) this.proc = undefined;
      this.c.framesDroppedOnExit += p.pending.size;
      if (this.closing) return;
      const err = new MediaError("DECODER_EXITED", `ffmpeg decoder ${why}: ${p.stderrTail.slice(-4).join(" | ")}`, { cause });
      this.log({ level: "warn", msg: "decoder exited; restarting at the next keyframe", error: err, pendingFrames: p.pending.size, restarts: this.c.restarts });
      if (this.c.restarts >= (this.opts.maxRestarts ?? 5)) {
        this.log({ level: "error", msg: "decoder restarted too often; giving up", error: new MediaError("DECODER_GAVE_UP", `ffmpeg died ${this.starts} times`) });
      }
      safeCall(this.log, "onKeyframeNeeded", this.opts.onKeyframeNeeded);
    };
    child.on("error", (err) => die("could not run", err));
    child.on("close", (code, signal) => die(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    child.stdin.on("error", () => {}); // EPIPE when ffmpeg died; "close" reports why.
    child.stdout.on("data", (d: Buffer) => this.onStdout(p, d));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => this.onStderr(p, d));
    child.stdin.write(ivfFileHeader(this.opts.codec, width, height));
  }

  private onStdout(p: Proc, d: Buffer): void {
    p.chunks.push(d);
    p.chunkBytes += d.length;
    while (p.chunkBytes >= this.frameBytes) {
      const all = p.chunks.length === 1 ? p.chunks[0]! : Buffer.concat(p.chunks);
      const rgb = new Uint8Array(this.frameBytes);
      rgb.set(all.subarray(0, this.frameBytes));
      const rest = all.subarray(this.frameBytes);
      p.chunks = rest.length > 0 ? [rest] : [];
      p.chunkBytes = rest.length;
      p.rgb.push(rgb);
    }
    this.match(p);
  }

  private onStderr(p: Proc, d: string): void {
    const lines = (p.stderrLine + d).split("\n");
    p.stderrLine = lines.pop() ?? "";
    for (const line of lines) {
      const pts = parseShowinfoPts(line);
      if (pts !== undefined) {
        p.pts.push(pts);
        continue;
      }
      if (/error|invalid|corrupt|missing/i.test(line)) {
        this.c.decodeErrors++;
        this.log({ level: "debug", msg: "ffmpeg decoder reports an error", line: line.slice(0, 200) });
      }
      p.stderrTail.push(line.slice(0, 200));
      if (p.stderrTail.length > 8) p.stderrTail.shift();
    }
    this.match(p);
  }

  /** Pairs the k-th output picture with the k-th showinfo pts (ffmpeg writes the log line first). */
  private match(p: Proc): void {
    while (p.rgb.length > 0 && p.pts.length > 0) this.deliver(p, p.pts.shift()!, p.rgb.shift()!);
  }

  private deliver(p: Proc, index: number, rgb: Uint8Array): void {
    let skipped = 0;
    for (const k of p.pending.keys()) {
      if (k >= index) break;
      p.pending.delete(k);
      skipped++;
    }
    if (skipped > 0) {
      this.c.framesDroppedByDecoder += skipped;
      this.log({ level: "warn", msg: "decoder dropped frames; asking for a keyframe", frames: skipped });
      safeCall(this.log, "onKeyframeNeeded", this.opts.onKeyframeNeeded);
    }
    const meta = p.pending.get(index);
    if (!meta) {
      this.log({ level: "warn", msg: "decoded frame matches no input frame; dropped", pts: index });
      return;
    }
    p.pending.delete(index);
    this.c.framesOut++;
    const decodedMs = this.clock();
    safeCall(this.log, "onFrame", this.opts.onFrame, {
      width: this.opts.width,
      height: this.opts.height,
      rgb,
      timestampMs: meta.timestampMs,
      keyframe: meta.keyframe,
      lastPacketArrivalMs: meta.lastPacketArrivalMs,
      decodedMs,
      receiveLatencyMs: decodedMs - meta.lastPacketArrivalMs,
    });
  }
}
