/**
 * One clip x condition x policy of the network benchmark, end to end: encode at the policy's
 * sender settings, simulate the link and the receive path, decode what the jitter buffer released,
 * and ask each question at its times with the newest frame available then.
 */
import { createHash } from "node:crypto";
import { mapFromRegions } from "../../encoder/importance/map.ts";
import { planContextEncode } from "../../encoder/ladder/ladder.ts";
import { fecMediaShare, parityFor } from "../../encoder/rtp/frame-fec.ts";
import type { RtpVideoCodec } from "../../encoder/rtp/index.ts";
import { frameRateTarget } from "../../sfu/media/frame-rate-target.ts";
import { PlayoutTiming } from "../../sfu/media/playout-timing.ts";
import { classicPolicy, resilientPolicy } from "../../sfu/media/receive-policy.ts";
import { devibenchPrompt, type MllmClient } from "../../sfu/mllm/types.ts";
import { scoreAnswer } from "../run/score.ts";
import type { PixelBox, Sample } from "../types.ts";
import type { NetworkConditionSpec } from "./conditions.ts";
import { CongestionWindow, type CongestionWindowOptions } from "../../sfu/media/gcc/congestion-window.ts";
import { ReceiverRate, SenderRate } from "./rate-loop.ts";
import { ClipEncoder, decodeReleased, type SenderSettings } from "./sender.ts";
import { simulate, type SimulationCounters, type SimulationResult } from "./simulate.ts";

export type PolicyName = "classic" | "resilient";
/** DeViBench's methods: no region map, or the question's region map (ground truth here). */
export type MethodName = "baseline" | "context";

export interface NetworkBenchSettings {
  readonly ffmpeg: string;
  readonly codec: RtpVideoCodec;
  readonly width: number;
  readonly height: number;
  readonly bitrateBps: number;
  /** Camera rate, and the classic sender's rate. */
  readonly maxFps: number;
  readonly seed: number;
  /** Times (ms after the clip's first capture) at which each question is asked. */
  readonly askTimesMs: readonly number[];
  /** libwebrtc's pacing factor times the bitrate. */
  readonly pacingFactor: number;
  readonly encodeDelayMs: number;
  /** Classic: the jitter buffer's wait cap beyond the RTT (RTT + 200 ms leaves a retransmission time to arrive; 100 ms dropped nearly every repaired frame at 100 ms RTT). */
  readonly classicExtraWaitMs: number;
  /** Resilient: the jitter buffer's wait cap (its default). */
  readonly resilientMaxWaitMs: number;
  /** Classic NACK retries (libwebrtc kMaxNackRetries). */
  readonly nackMaxRetries: number;
  /** Classic: frames handed on at WebRTC's playout time (sfu/media/playout-timing.ts) or when complete. */
  readonly classicPlayout: "webrtc" | "none";
  /** Smoothed loss at which the resilient sender without FEC goes intra-only (loss-resilience.ts `enterLoss`). */
  readonly intraOnlyLoss: number;
  /**
   * Resilient sender on a lossy link: per-frame Reed-Solomon FEC sized to the known loss
   * (encoder/rtp/frame-fec.ts, as the publisher does when the server negotiates it), long GOP; or,
   * false, intra-only frames without FEC (the publisher's fallback).
   */
  readonly fec: boolean;
  /** The frame loss FEC is sized for (`parityFor`). */
  readonly fecTargetFrameLoss: number;
  /**
   * The sender's rate: `gcc`, following the receiver's estimate as a call does (rate-loop.ts,
   * warmed up for `warmupMs` before each clip), or `fixed` at `bitrateBps`.
   */
  readonly rateControl: "gcc" | "fixed";
  readonly warmupMs: number;
  /**
   * gcc: the sender drops frames while its congestion window is full (sfu/media/gcc/congestion-window.ts,
   * transport feedback every 50 ms); null: it never drops frames.
   */
  readonly congestionWindow: CongestionWindowOptions | null;
  readonly cacheDir: string;
}

export interface PolicyPlan {
  readonly sender: SenderSettings;
  readonly maxWaitMs: number;
  readonly nackRetries: { intervalMs: number; maxRetries: number } | null;
  /** Per-frame FEC at this loss rate (resilient on a lossy link), or none. */
  readonly fec: { readonly lossRate: number; readonly targetFrameLoss: number } | null;
}

/** libwebrtc's cap on the protection overhead it takes out of the encoder's rate (FecControllerDefault's overhead_threshold). */
const MAX_PROTECTION_SHARE = 0.5;

/**
 * The share of the sender's rate its encoder gets when lost packets are retransmitted: libwebrtc
 * takes the protection it sent over the last second (retransmissions and FEC, over all it sent)
 * out of the estimate before the encoder sees it (modules/video_coding/fec_controller_default.cc,
 * UpdateFecRates: "Source coding rate: total rate - protection overhead", at most 50%). With each
 * packet lost with probability p and resent until it arrives, the sender sends 1 / (1 - p) per
 * packet and the retransmissions are p of all it sends: the encoder gets 1 - p. The classic sender
 * so stays within the same cap as the resilient one, whose parity comes out of it too; before,
 * its retransmissions went on top (bench:network loss10: 721 kbps on the link against a 600 cap).
 */
export function retransmissionMediaShare(lossRate: number): number {
  if (!(lossRate >= 0 && lossRate < 1)) throw new RangeError(`lossRate must be in [0, 1), got ${lossRate}`);
  return 1 - Math.min(lossRate, MAX_PROTECTION_SHARE);
}

/** What each policy's sender and receiver do under a condition. */
export function planFor(policy: PolicyName, condition: NetworkConditionSpec, s: NetworkBenchSettings): PolicyPlan {
  const base = { codec: s.codec, width: s.width, height: s.height, bitrateBps: s.bitrateBps };
  if (policy === "classic") {
    return {
      sender: { ...base, bitrateBps: Math.round(s.bitrateBps * retransmissionMediaShare(condition.knownLossRate)), fps: s.maxFps, mode: "gop" },
      maxWaitMs: condition.rttMs + s.classicExtraWaitMs,
      nackRetries: { intervalMs: Math.max(1, condition.rttMs), maxRetries: s.nackMaxRetries },
      fec: null,
    };
  }
  const lossRate = condition.knownLossRate;
  const fec = s.fec && lossRate > 0 ? { lossRate, targetFrameLoss: s.fecTargetFrameLoss } : null;
  const intraOnly = !fec && lossRate >= s.intraOnlyLoss;
  const fps = frameRateTarget(
    { lossRate, bitrateBps: s.bitrateBps, maxFps: s.maxFps, intraOnly, ...(fec ? { fec: { targetFrameLoss: fec.targetFrameLoss } } : {}) },
    { pacingFactor: s.pacingFactor },
  ).fps;
  // The parity comes out of the same budget: the encoder gets what it leaves.
  const share = fec ? fecMediaShare({ bitrateBps: s.bitrateBps, fps, lossRate, targetFrameLoss: fec.targetFrameLoss }) : 1;
  return {
    sender: { ...base, bitrateBps: Math.round(s.bitrateBps * share), fps, mode: intraOnly ? "intra" : "gop" },
    maxWaitMs: s.resilientMaxWaitMs,
    nackRetries: null,
    fec,
  };
}

export interface AskOutcome {
  readonly sampleId: string;
  readonly atMs: number;
  /** Capture index of the frame shown; null when no frame was available yet. */
  readonly frameIndex: number | null;
  readonly answer: string | null;
  readonly correct: boolean;
}

export interface ClipRun {
  readonly frames: Array<{ captureMs: number; availableMs: number | null; fate: string; sizeBytes: number; keyframe: boolean }>;
  readonly asks: AskOutcome[];
  readonly counters: SimulationCounters;
  readonly restarts: number;
  /** Encoded video over the clip (payload bits). */
  readonly sentKbps: number;
  readonly plan: PolicyPlan;
  /** Where the clip started in the condition's trace (0 without one). */
  readonly traceOffsetMs: number;
}

/** Answers by frame content and question: classic frames decode alike under every condition. */
export type AnswerCache = Map<string, { text: string; cannotAnswer: boolean }>;

/**
 * Where clip `k` of `n` starts in the condition's trace: spread evenly over one period, so a run
 * samples the whole trace (its dips included) rather than its first seconds for every clip.
 */
export function traceOffsetMs(condition: NetworkConditionSpec, k: number, n: number): number {
  const rate = condition.uplink.rate;
  return rate.kind === "trace" ? Math.floor((k * rate.trace.periodMs) / n) : 0;
}

/** Loss draws differ from clip to clip but are the same for both policies (common random numbers). */
export function clipSeed(seed: number, k: number): number {
  return (seed * 1_000_003 + k * 7919) >>> 0;
}

export interface ClipInput {
  readonly id: string;
  readonly videoPath: string;
  readonly durationSec: number;
  /** Source picture size (ground-truth regions are in these pixels). */
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  readonly samples: readonly Sample[];
  readonly index: number;
  readonly of: number;
}

/**
 * The questions of a clip that share a region map: the context method encodes once per distinct
 * ground-truth region (devibench/run/runner.ts does the same); baseline: one group, no regions.
 */
export function regionGroups(samples: readonly Sample[], method: MethodName): Array<{ regions: PixelBox[] | null; samples: Sample[] }> {
  if (method === "baseline") return [{ regions: null, samples: [...samples] }];
  const groups = new Map<string, { regions: PixelBox[]; samples: Sample[] }>();
  for (const sample of samples) {
    if (!sample.regions || sample.regions.length === 0) throw new Error(`sample ${sample.id} has no ground-truth region for the context method`);
    const key = JSON.stringify(sample.regions);
    groups.set(key, { regions: [...sample.regions], samples: [...(groups.get(key)?.samples ?? []), sample] });
  }
  return [...groups.values()];
}

/**
 * The sender settings with the question's region map, planned exactly as DeViBench's context
 * method plans it (encoder/ladder `planContextEncode`: the importance map from the regions, the
 * budget-aware allocator calibrated on the baseline encode of the same clip at the same settings,
 * rectangles for x264's region control). The baseline here is this policy's own sender (its frame
 * rate and GOP mode), so an intra-only sender is calibrated on intra frames.
 */
export async function contextSender(
  clip: Pick<ClipInput, "videoPath" | "durationSec" | "sourceWidth" | "sourceHeight">, regions: readonly PixelBox[], sender: SenderSettings, s: Pick<NetworkBenchSettings, "ffmpeg" | "cacheDir">,
): Promise<SenderSettings> {
  const baseline = await ClipEncoder.open({ ffmpeg: s.ffmpeg, input: clip.videoPath, durationSec: clip.durationSec, settings: sender, cacheDir: s.cacheDir });
  const map = mapFromRegions(clip.sourceWidth, clip.sourceHeight, 64, regions);
  const plan = await planContextEncode({
    ffmpeg: s.ffmpeg, input: clip.videoPath, fps: sender.fps, codec: sender.codec,
    rung: { targetKbps: sender.bitrateBps / 1000, width: sender.width, height: sender.height },
    maps: [{ atSec: 0, map }], baseline: baseline.stats, useEncoderRoi: true,
  });
  return { ...sender, roi: plan.roi };
}

/**
 * One encoded clip through the condition as the plan says (the sender's FEC, the receiver's
 * policy, NACK retries, WebRTC playout for classic): shared by bench:network and DeViBench's
 * `run --network` (link-frames.ts), so both measure the same thing.
 */
export function simulatePlan(a: {
  source: ClipEncoder; condition: NetworkConditionSpec; policy: PolicyName; plan: PolicyPlan;
  settings: NetworkBenchSettings; clipIndex: number; clipCount: number;
}): Promise<SimulationResult> {
  const { source, condition, policy, plan, settings: s } = a;
  const fec = plan.fec;
  // The parity, or the retransmissions, come out of the cap: the encoder gets the media share at
  // the current cap.
  const mediaBps = (capBps: number) => Math.round(
    fec ? capBps * fecMediaShare({ bitrateBps: capBps, fps: plan.sender.fps, lossRate: fec.lossRate, targetFrameLoss: fec.targetFrameLoss })
    : policy === "classic" ? capBps * retransmissionMediaShare(condition.knownLossRate) : capBps,
  );
  const rateLoop = s.rateControl === "gcc"
    ? { receiver: new ReceiverRate({ maxBps: s.bitrateBps }), sender: new SenderRate(s.bitrateBps, mediaBps, 500, s.congestionWindow ? new CongestionWindow(s.congestionWindow) : null), warmupMs: s.warmupMs, pacingFactor: s.pacingFactor }
    : undefined;
  return simulate({
    ...(rateLoop ? { rateLoop } : {}),
    source, condition, policy: policy === "classic" ? classicPolicy() : resilientPolicy({ fec: fec !== null }),
    ...(fec ? { fec: { parityFor: (k: number) => parityFor(k, fec.lossRate, fec.targetFrameLoss) } } : {}),
    maxWaitMs: plan.maxWaitMs, nackRetries: plan.nackRetries, seed: clipSeed(s.seed, a.clipIndex),
    ...(policy === "classic" && s.classicPlayout === "webrtc" ? { playout: { timing: new PlayoutTiming(), rttMs: condition.rttMs } } : {}),
    traceOffsetMs: traceOffsetMs(condition, a.clipIndex, a.clipCount),
    // The pacer paces everything the sender may send (media and parity) at 2.5x the total budget.
    pacingBps: s.pacingFactor * s.bitrateBps, encodeDelayMs: s.encodeDelayMs,
  });
}

export async function runClip(
  clip: ClipInput, condition: NetworkConditionSpec, policy: PolicyName, s: NetworkBenchSettings, engine: MllmClient, cache: AnswerCache,
  regions: readonly PixelBox[] | null = null,
): Promise<ClipRun> {
  const plan = planFor(policy, condition, s);
  const sender = regions ? await contextSender(clip, regions, plan.sender, s) : plan.sender;
  const source = await ClipEncoder.open({ ffmpeg: s.ffmpeg, input: clip.videoPath, durationSec: clip.durationSec, settings: sender, cacheDir: s.cacheDir });
  const sim = await simulatePlan({ source, condition, policy, plan, settings: s, clipIndex: clip.index, clipCount: clip.of });
  // The newest decodable frame released by each ask time (release order is decode order).
  const shownAt = s.askTimesMs.map((t) => {
    let k = -1;
    while (k + 1 < sim.decodable.length && sim.decodable[k + 1]!.releasedMs <= t) k++;
    return k;
  });
  const decoded = await decodeReleased(
    s.ffmpeg, s.codec, sim.decodable.map((d) => d.data), shownAt.filter((k) => k >= 0), { width: s.width, height: s.height },
    sim.decodable.map((d) => Math.round((d.index * 1000) / source.fps)), s.cacheDir,
  );
  const asks: AskOutcome[] = [];
  for (const sample of clip.samples) {
    for (const [j, atMs] of s.askTimesMs.entries()) {
      const k = shownAt[j]!;
      const frame = k >= 0 ? decoded.get(k) : undefined;
      if (!frame) {
        asks.push({ sampleId: sample.id, atMs, frameIndex: null, answer: null, correct: false });
        continue;
      }
      const key = createHash("sha1").update(frame.rgb).update(sample.question).digest("hex");
      let a = cache.get(key);
      if (!a) {
        const r = await engine.ask({ prompt: devibenchPrompt(sample.question), question: sample.question, frames: [frame] });
        a = { text: r.text, cannotAnswer: r.cannotAnswer };
        cache.set(key, a);
      }
      const correct = a.cannotAnswer ? false : (await scoreAnswer("normalized-match", sample, a.text, undefined)).correct;
      asks.push({ sampleId: sample.id, atMs, frameIndex: sim.decodable[k]!.index, answer: a.text, correct });
    }
  }
  const bytes = sim.frames.reduce((n, f) => n + f.sizeBytes, 0);
  return {
    frames: sim.frames.map((f) => ({ captureMs: f.captureMs, availableMs: f.availableMs, fate: f.fate, sizeBytes: f.sizeBytes, keyframe: f.keyframe })),
    asks, counters: sim.counters, restarts: source.restarts,
    sentKbps: (bytes * 8) / (source.frameCount / source.fps) / 1000, plan,
    traceOffsetMs: traceOffsetMs(condition, clip.index, clip.of),
  };
}
