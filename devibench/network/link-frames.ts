/**
 * DeViBench's network axis (`devibench run --network classic@loss=0.05,rtt=100`): one clip sent
 * over an emulated link with a receive policy, as bench:network does it, and the frames the model
 * would have at the sampled times (the newest frame available at each; none yet: left out).
 * With regions (the context-aware method) the sender encodes with the region map, planned as
 * bench:network plans it (run-clip.ts `contextSender`, calibrated on this policy's own sender).
 */
import type { RtpVideoCodec } from "../../encoder/rtp/index.ts";
import { DEFAULT_FEC_TARGET_FRAME_LOSS } from "../../encoder/rtp/frame-fec.ts";
import { fitWithin } from "../../sfu/mllm/jpeg.ts";
import type { VideoFrame } from "../../sfu/mllm/types.ts";
import type { PixelBox } from "../types.ts";
import { parseCondition } from "./conditions.ts";
import { frameLatencies } from "./latency.ts";
import { contextSender, type NetworkBenchSettings, planFor, simulatePlan } from "./run-clip.ts";
import { ClipEncoder, decodeReleased, type SenderSettings } from "./sender.ts";

export interface LinkFramesRequest {
  readonly ffmpeg: string;
  readonly codec: RtpVideoCodec;
  readonly input: string;
  readonly durationSec: number;
  /** The input's picture size: `regions` are in these pixels. */
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  /** The encoded size (the rung's). */
  readonly width: number;
  readonly height: number;
  readonly bitrateKbps: number;
  readonly spec: string;
  readonly policy: "classic" | "resilient";
  readonly seed: number;
  /** This clip's place in the run (spreads clips over a trace, varies the loss draws). */
  readonly clipIndex: number;
  readonly clipCount: number;
  readonly timesSec: readonly number[];
  readonly maxSide: number;
  readonly cacheDir: string;
  /**
   * The context-aware method: the question's regions, in source pixels. The sender then carries
   * the region map (region-control rectangles). Absent or null: the baseline method; an empty
   * list (a detector that found nothing) still plans the context encode, on a flat map, as the
   * no-network context path does.
   */
  readonly regions?: readonly PixelBox[] | null;
}

export interface LinkFrames {
  readonly frames: VideoFrame[];
  /** Per captured frame: capture until available (a dropped frame: until the next good one). */
  readonly latenciesMs: number[];
  readonly sentKbps: number;
  /** The sender's encode, ms (not the context plan's calibration; a cached encode: near 0). */
  readonly encodeMs: number;
  /** What the sender encoded with (`roi` set for the context-aware method). */
  readonly sender: SenderSettings;
}

/** bench:network's sender and receiver settings (devibench/network/bench-network.ts prints them). */
export function defaultNetworkSettings(ffmpeg: string, codec: RtpVideoCodec, width: number, height: number, bitrateBps: number, seed: number, cacheDir: string): NetworkBenchSettings {
  return {
    ffmpeg, codec, width, height, bitrateBps, maxFps: 15, seed, askTimesMs: [], pacingFactor: 2.5, encodeDelayMs: 10,
    classicExtraWaitMs: 200, resilientMaxWaitMs: 100, nackMaxRetries: 10, classicPlayout: "webrtc", intraOnlyLoss: 0.01,
    fec: true, fecTargetFrameLoss: DEFAULT_FEC_TARGET_FRAME_LOSS, cacheDir,
    // DeViBench's `run --network` compares receive policies at one sending rate; bench:network
    // runs the rate loop (its --rate-control).
    rateControl: "fixed", warmupMs: 5000, congestionWindow: {},
  };
}

export async function linkFrames(r: LinkFramesRequest): Promise<LinkFrames> {
  const condition = parseCondition(r.spec);
  const s = defaultNetworkSettings(r.ffmpeg, r.codec, r.width, r.height, r.bitrateKbps * 1000, r.seed, r.cacheDir);
  const plan = planFor(r.policy, condition, s);
  const sender = r.regions
    ? await contextSender(
      { videoPath: r.input, durationSec: r.durationSec, sourceWidth: r.sourceWidth, sourceHeight: r.sourceHeight },
      r.regions, plan.sender, { ffmpeg: r.ffmpeg, cacheDir: r.cacheDir },
    )
    : plan.sender;
  const t0 = performance.now();
  const source = await ClipEncoder.open({ ffmpeg: r.ffmpeg, input: r.input, durationSec: r.durationSec, settings: sender, cacheDir: r.cacheDir });
  const encodeMs = performance.now() - t0;
  const sim = await simulatePlan({ source, condition, policy: r.policy, plan, settings: s, clipIndex: r.clipIndex, clipCount: r.clipCount });
  const shown = [...new Set(r.timesSec.map((t) => {
    let k = -1;
    while (k + 1 < sim.decodable.length && sim.decodable[k + 1]!.releasedMs <= t * 1000) k++;
    return k;
  }).filter((k) => k >= 0))];
  const size = fitWithin(r.width, r.height, r.maxSide);
  const decoded = await decodeReleased(r.ffmpeg, r.codec, sim.decodable.map((d) => d.data), shown, size,
    sim.decodable.map((d) => Math.round((d.index * 1000) / source.fps)), r.cacheDir);
  const bytes = sim.frames.reduce((n, f) => n + f.sizeBytes, 0);
  return {
    frames: shown.map((k) => decoded.get(k)!),
    latenciesMs: frameLatencies(sim.frames).latenciesMs.map((v) => Math.round(v)),
    sentKbps: (bytes * 8) / (source.frameCount / source.fps) / 1000,
    encodeMs: Math.round(encodeMs),
    sender,
  };
}
