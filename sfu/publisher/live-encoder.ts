/**
 * A video file as a live stream of encoded frames with capture times, steered while it runs:
 *
 *   ffmpeg #1 (decode, -re) --raw I420--> Node: frame-rate target, pre-filter --> ffmpeg #2 (encode)
 *   --FLV/Annex B/IVF--> frames, each with the capture time of its input frame (first in, first out)
 *
 * Region maps reach the picture two ways (`route`): the pre-filter changes on the next frame; the
 * encoder's region control is baked into ffmpeg #2's filter graph (`addroi`), so a new map, like a
 * new bitrate or frame rate, RESTARTS ffmpeg #2. The first frame after a restart is a keyframe, so
 * restarts are rate-limited (`minRestartIntervalMs`, default at most one per 500 ms; requests in
 * between collapse into one, the latest state wins; changes within `coalesceMs`, 20 ms, share one). A keyframe request (RTCP PLI) restarts too:
 * ffmpeg's CLI cannot force a keyframe into a running encode. The old encoder is ended gracefully
 * and its last frames are still emitted, before the new encoder's first.
 *
 * Frames that arrive while the encoder is still busy with the previous one are dropped (a live
 * source does not queue), and counted.
 *
 * Intra-only (`setIntraOnly`): every frame a keyframe (`-g 1`), for links whose losses nobody
 * repairs (loss-resilience.ts); also a restart.
 */
import { existsSync } from "node:fs";
import { i420FromBuffer } from "../../encoder/prefilter/index.ts";
import type { ImportanceMap } from "../../encoder/importance/map.ts";
import { isH264Keyframe } from "../../encoder/rtp/h264.ts";
import { decoderArgs, encoderArgs, type EncoderSettings } from "./encoder-args.ts";
import { PublisherError } from "./errors.ts";
import { TypedEvents } from "./events.ts";
import { FrameRateLimiter } from "./frame-rate.ts";
import { AnnexBAccessUnitReader, FlvH264Reader, IvfFrameReader, type FrameReader } from "./framing.ts";
import { resolveLiveOptions, type EncodedFrame, type LiveEncoderCounters, type LiveEncoderEvents } from "./live-types.ts";
import type { LiveEncoderOptions, RateSettings, ResolvedLiveOptions, RestartReason } from "./live-types.ts";
import { EncoderProcess, RawVideoSource, type EncodedOutput, type ProcessExit } from "./processes.ts";
import { RestartGate } from "./restart-gate.ts";
import { roiRectsForMap } from "./roi-rects.ts";

export type { EncodedFrame, LiveEncoderCounters, LiveEncoderEvents, LiveEncoderOptions, LivePrefilter, RateSettings, RestartReason } from "./live-types.ts";

interface FrameMeta {
  readonly captureMs: number;
  readonly sourceIndex: number;
}

interface Running {
  readonly proc: EncoderProcess<FrameMeta>;
  readonly generation: number;
  readonly key: string;
  readonly settings: EncoderSettings;
  /** Frames made while an older process was still emitting. */
  readonly held: Array<EncodedOutput<FrameMeta>>;
  producedFrames: boolean;
}

/** Consecutive encoder failures (without a frame between them) after which the encoder gives up. */
const MAX_CONSECUTIVE_FAILURES = 3;

export class LiveEncoder {
  readonly events = new TypedEvents<LiveEncoderEvents>();
  readonly counters: LiveEncoderCounters = {
    framesIn: 0, framesDroppedRate: 0, framesDroppedBusy: 0, framesDroppedCongestion: 0, framesSent: 0, bytesSent: 0, keyframesSent: 0, restarts: 0, encoderFailures: 0,
  };
  private readonly opts: ResolvedLiveOptions;
  private readonly limiter = new FrameRateLimiter();
  private readonly gate: RestartGate;
  private source: RawVideoSource | null = null;
  /** Encoder processes in start order; only the first emits, the others hold their frames. */
  private procs: Running[] = [];
  private generation = 0;
  private map: ImportanceMap | null = null;
  private rate: RateSettings = { maxBitrateBps: null, maxFramerate: null };
  /** Vision on demand's keep-alive frame rate while idle, else null. */
  private idleFps: number | null = null;
  private intra = false;
  private pendingReasons = new Set<RestartReason>();
  private timer: NodeJS.Timeout | null = null;
  private restartQueued = false;
  private failures = 0;
  private state: "idle" | "running" | "ending" | "closed" = "idle";
  private closing: Promise<void> | null = null;

  constructor(options: LiveEncoderOptions) {
    this.opts = resolveLiveOptions(options);
    this.gate = new RestartGate(this.opts.minRestartIntervalMs);
  }

  /** Starts both processes; rejects when ffmpeg cannot run. */
  async start(): Promise<void> {
    if (this.state !== "idle") throw new PublisherError("INVALID_OPTION", "LiveEncoder.start() was already called");
    // ffmpeg also reads URLs (rtsp://, http://); only a local path can be checked up front.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(this.opts.input) && !existsSync(this.opts.input)) {
      throw new PublisherError("INVALID_OPTION", `LiveEncoder option input: video file ${this.opts.input} does not exist`);
    }
    this.state = "running";
    const { ffmpeg, width, height } = this.opts;
    this.gate.noteRestart(this.opts.now());
    this.spawnEncoder(["start"]);
    this.source = new RawVideoSource(ffmpeg, decoderArgs(this.opts), width, height, (f, i) => this.onRawFrame(f, i));
    void this.source.exited.then((exit) => this.onSourceExit(exit));
    try {
      await Promise.all([this.source.spawned, this.procs[0]!.proc.spawned]);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** The map to apply from now on, at any size of the send size's shape; null = uniform quality. */
  setRegionMap(map: ImportanceMap | null): void {
    this.map = map;
    if (this.opts.route !== "prefilter") this.requestRestart("region-map");
  }

  setRate(rate: Partial<RateSettings>): void {
    for (const [k, v] of Object.entries(rate)) {
      if (v !== null && v !== undefined && !(v > 0)) throw new PublisherError("INVALID_OPTION", `setRate ${k} must be > 0 or null, got ${v}`);
    }
    this.rate = { ...this.rate, ...rate };
    this.applyFrameLimit();
    this.requestRestart("rate");
  }

  /**
   * Vision on demand's keep-alive: at most `fps` frames a second reach the encoder, which keeps its
   * bitrate and settings (no restart, no keyframe): each frame keeps the bits it had, so the picture
   * stays as sharp, and `null` brings the full frame rate back on the very next frame, continuing
   * the same stream. Cheaper than a lower rate target, which restarts the encoder both ways.
   */
  setIdleFramerate(fps: number | null): void {
    if (fps !== null && !(fps > 0 && Number.isFinite(fps))) throw new PublisherError("INVALID_OPTION", `setIdleFramerate must be > 0 or null, got ${fps}`);
    this.idleFps = fps;
    this.applyFrameLimit();
  }

  /** The frame-rate limit in force: the rate target's, lowered further while idle. */
  private applyFrameLimit(): void {
    const target = this.rate.maxFramerate !== null && this.rate.maxFramerate < this.opts.fps ? this.rate.maxFramerate : null;
    const idle = this.idleFps !== null && this.idleFps < (target ?? this.opts.fps) ? this.idleFps : null;
    this.limiter.setMaxFps(idle ?? target);
  }

  /** The next frame will be a keyframe (after the restart gate allows a restart). */
  requestKeyframe(): void {
    this.requestRestart("keyframe");
  }

  /** Every frame a keyframe (true), or keyframes at the configured interval (false). */
  setIntraOnly(on: boolean): void {
    if (on === this.intra) return;
    this.intra = on;
    this.requestRestart("intra-only");
  }

  get intraOnly(): boolean {
    return this.intra;
  }

  /** What the encoder runs with now (the latest process). */
  get settings(): EncoderSettings {
    return this.procs[this.procs.length - 1]?.settings ?? this.desiredSettings();
  }

  get currentRate(): RateSettings {
    return this.rate;
  }

  /** Process ids of the ffmpeg children still running (for leak checks). */
  get childPids(): number[] {
    return [this.source?.pid, ...this.procs.map((r) => r.proc.pid)].filter((p): p is number => p !== undefined);
  }

  /** Ends both processes (SIGKILL) and resolves when they are gone. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.state = "closed";
    this.gate.cancel();
    if (this.timer) clearTimeout(this.timer);
    const exits = [this.source?.kill(), ...this.procs.map((r) => r.proc.kill())];
    await Promise.all(exits);
    this.procs = [];
  }

  private desiredSettings(): EncoderSettings {
    const o = this.opts;
    const rects = this.map && o.route !== "prefilter" ? roiRectsForMap(this.map, o.width, o.height, o.codec) : [];
    const fps = Math.min(o.fps, this.rate.maxFramerate ?? Infinity);
    return {
      codec: o.codec, width: o.width, height: o.height,
      fps,
      bitrateBps: Math.min(o.bitrateBps, this.rate.maxBitrateBps ?? Infinity),
      // One frame's interval: encoderArgs makes that a GOP of one frame.
      keyframeIntervalSec: this.intra ? 1 / fps : o.keyframeIntervalSec,
      h264Framing: o.h264Framing, rects,
      ...(o.speed !== undefined ? { speed: o.speed } : {}),
    };
  }

  private requestRestart(reason: RestartReason): void {
    if (this.state !== "running") return;
    if (this.restartQueued || this.gate.pending) {
      this.pendingReasons.add(reason);
      return;
    }
    if (!this.restartWanted([reason])) return;
    this.pendingReasons.add(reason);
    const now = this.opts.now();
    const d = this.gate.request(now);
    if (d.kind === "now") {
      // Changes that come together (a map and a rate target in two messages) share one restart.
      this.restartQueued = true;
      const t = setTimeout(() => {
        this.restartQueued = false;
        this.restartIfNeeded();
      }, this.opts.coalesceMs);
      t.unref();
      return;
    }
    if (d.schedule) this.armTimer(d.atMs);
  }

  /** Timers may fire a little before the capture clock reaches `atMs`: then wait the rest. */
  private armTimer(atMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.state !== "running") return;
      if (this.gate.due(this.opts.now())) this.restartIfNeeded();
      else if (this.gate.pending) this.armTimer(atMs);
    }, Math.max(1, Math.ceil(atMs - this.opts.now())));
    this.timer.unref();
  }

  /** Restarts unless nothing changed (a map equal in effect, a rate within the same caps). */
  private restartIfNeeded(): void {
    const reasons = [...this.pendingReasons];
    this.pendingReasons.clear();
    if (this.state !== "running" || !this.restartWanted(reasons)) return;
    this.spawnEncoder(reasons);
  }

  private restartWanted(reasons: readonly RestartReason[]): boolean {
    const latest = this.procs[this.procs.length - 1];
    if (!latest || !latest.proc.alive || reasons.includes("keyframe") || reasons.includes("recover")) return true;
    return latest.key !== encoderArgs(this.desiredSettings()).join(" ");
  }

  private spawnEncoder(reasons: RestartReason[]): void {
    const settings = this.desiredSettings();
    const args = encoderArgs(settings);
    const generation = ++this.generation;
    const reader: FrameReader =
      settings.codec === "vp8" ? new IvfFrameReader() : settings.h264Framing === "flv" ? new FlvH264Reader() : new AnnexBAccessUnitReader();
    const proc = new EncoderProcess<FrameMeta>(this.opts.ffmpeg, args, reader, (out) => this.onEncoded(running, out));
    const running: Running = { proc, generation, key: args.join(" "), settings, held: [], producedFrames: false };
    const previous = this.procs.filter((r) => r.proc.alive);
    this.procs.push(running);
    void proc.exited.then((exit) => this.onEncoderExit(running, exit));
    for (const r of previous) void r.proc.end();
    if (generation > 1) this.counters.restarts++;
    this.events.emit("restart", { generation, reasons, settings });
  }

  private onRawFrame(frame: Uint8Array, sourceIndex: number): void {
    if (this.state !== "running") return;
    this.counters.framesIn++;
    const captureMs = this.opts.now();
    if (!this.limiter.admit(captureMs)) {
      this.counters.framesDroppedRate++;
      return;
    }
    if (this.opts.admitFrame && !this.opts.admitFrame()) {
      this.counters.framesDroppedCongestion++;
      return;
    }
    const target = this.procs[this.procs.length - 1];
    if (!target || !target.proc.alive) {
      this.counters.framesDroppedBusy++;
      return;
    }
    const { route, prefilter, width, height } = this.opts;
    if (this.map && route !== "encoder-roi" && prefilter) {
      const f = i420FromBuffer(frame, width, height);
      prefilter.applyI420(f, this.map, f); // in place: the buffer is ours alone
    }
    if (!target.proc.write(frame, { captureMs, sourceIndex })) this.counters.framesDroppedBusy++;
  }

  private onEncoded(running: Running, out: EncodedOutput<FrameMeta>): void {
    if (this.state === "closed") return;
    if (this.procs[0] !== running) {
      running.held.push(out);
      return;
    }
    this.emitFrame(running, out);
  }

  private emitFrame(running: Running, out: EncodedOutput<FrameMeta>): void {
    running.producedFrames = true;
    this.failures = 0;
    const keyframe = running.settings.codec === "vp8" ? (out.data[0]! & 0x01) === 0 : isH264Keyframe(out.data);
    this.counters.framesSent++;
    this.counters.bytesSent += out.data.length;
    if (keyframe) this.counters.keyframesSent++;
    this.events.emit("frame", {
      data: out.data,
      captureMs: out.meta?.captureMs ?? this.opts.now(),
      keyframe,
      sourceIndex: out.meta?.sourceIndex ?? -1,
      generation: running.generation,
    });
  }

  private onEncoderExit(running: Running, exit: ProcessExit): void {
    const i = this.procs.indexOf(running);
    if (i < 0) return;
    this.procs.splice(i, 1);
    // The next process in line may have frames waiting: they follow this one's last frame.
    const next = this.procs[0];
    if (i === 0 && next) for (const out of next.held.splice(0)) this.emitFrame(next, out);
    if (this.state === "closed") return;
    if (this.state === "ending") {
      if (this.procs.length === 0) this.finishEnding();
      return;
    }
    if (exit.requested && !exit.error) return;
    this.counters.encoderFailures++;
    const error = exit.error ?? new PublisherError("ENCODER_FAILED", `the encoder (generation ${running.generation}) exited with ${exit.signal ?? `code ${exit.code}`}: ${exit.stderrTail}`);
    if (!running.producedFrames) this.failures++;
    const fatal = this.failures >= MAX_CONSECUTIVE_FAILURES;
    this.events.emit("error", { error, fatal });
    if (fatal) void this.close();
    else if (this.procs.length === 0) this.requestRestart("recover");
  }

  private onSourceExit(exit: ProcessExit): void {
    if (this.state !== "running") return;
    if (exit.code === 0 && !exit.error) {
      // End of the file: let the encoder finish what it has, then report the end.
      this.state = "ending";
      this.gate.cancel();
      if (this.procs.length === 0) return this.finishEnding();
      for (const r of this.procs) void r.proc.end();
      return;
    }
    const error = exit.error ?? new PublisherError("ENCODER_FAILED", `decoding ${this.opts.input} failed (exit ${exit.signal ?? exit.code}): ${exit.stderrTail}`);
    this.events.emit("error", { error, fatal: true });
    void this.close();
  }

  private finishEnding(): void {
    void this.close().then(() => this.events.emit("end", undefined));
  }
}
