/**
 * The frame rate the sender should use for AI-bound video under the resilient receive policy:
 * as few frames as the MLLM needs, plus just enough extra frames that a lost one is covered by the
 * next, and never so many that a frame gets too few bits to be read.
 *
 * After Artic's loss-resilient adaptive frame rate (Wu et al., "Chat with AI: The Surprising Turn
 * of Real-time Video Communication from Human to AI", arXiv 2507.10510): the MLLM looks at 1-2
 * frames a second, so a lost frame is not retransmitted but replaced by the previous good one, and
 * the sender's frame rate follows what the MLLM consumes so that no bits go to frames nobody looks
 * at; with loss, more (smaller) frames make it likely that a good one is there when the MLLM
 * samples. The formula below is our reading of that idea:
 *
 *   W      = min(1000 / samplingFps, maxFrameAgeMs)     window in which one good frame is needed (ms)
 *   N(f)   = max(1, ceil(bitrateBps / f / (8 * packetPayloadBytes)))   packets per frame
 *   q(f)   = (1 - lossRate) ^ N(f)                      a frame arrives whole (independent loss)
 *            with per-frame FEC (`fec`): the encoder gets s = fecMediaShare of the bitrate, a
 *            frame is k = N(f) at s * bitrate media packets plus m = parityFor(k) parity packets,
 *            and q(f) = P(at most m of k + m lost) (encoder/rtp/frame-fec.ts)
 *   miss(f)= (1 - q(f)) ^ (f * W / 1000)                no good frame in a window
 *   F      = max(samplingFps, (1 + 1 / pacingFactor) * 1000 / maxFrameAgeMs)   the floor: the
 *            sampling rate, and freshness: a frame is complete only once its packets are paced
 *            out, 1 / (pacingFactor * f) after it was handed over (libwebrtc paces at 2.5x the
 *            target rate), so the newest complete frame can be (1 + 1 / pacingFactor) / f old
 *            when a question comes
 *
 *   f = the smallest rate >= F with miss(f) <= missProbability, kept within
 *       maxFps and bitrateBps / minBitsPerFrame (a frame below that is not readable, so more
 *       frames would only be more unreadable frames; minBitsPerIntraFrame when every frame is
 *       intra-coded, `intraOnly`); if no rate meets the target, the rate
 *       in that range with the smallest miss(f). Rates of 1 fps and up are whole numbers.
 *
 * Assumptions: every frame decodes on its own (the publisher sends intra-only frames on a lossy
 * link when retransmission is off and FEC is not negotiated, see sfu/publisher/loss-resilience.ts),
 * or FEC makes a lost frame rare enough that the keyframe request after it does not matter; losses
 * are independent; bursty loss makes miss(f) optimistic.
 *
 * The freshness floor counts the pacing because at a fixed bitrate fewer frames are bigger frames:
 * bench:network measured long-GOP + FEC senders at 600 kbps over 5% / 10% loss at 7, 10 and 15 fps:
 * frame latency p95 112 / 114, 96 / 97 and 94 / 89 ms. Without the pacing term the floor was
 * 7 fps (1000 / 150 ms).
 *
 * Pure: no clock; `PacketLossWindow` takes the time as an argument.
 */

import { fecFrameSurvival } from "../../encoder/rtp/fec.ts";
import { DEFAULT_FEC_TARGET_FRAME_LOSS, fecMediaShare, parityFor } from "../../encoder/rtp/frame-fec.ts";

export interface FrameRateTargetInput {
  /** Packet loss fraction on the link, 0..1 (before any retransmission). */
  readonly lossRate: number;
  /** The bitrate the sender will use (bits per second). */
  readonly bitrateBps: number;
  /** Upper bound (the camera's rate, or the agent's target). */
  readonly maxFps: number;
  /**
   * Every frame is intra-coded (the publisher's intra-only mode on a lossy link): the readability
   * floor is `minBitsPerIntraFrame`. Default false (`minBitsPerFrame`).
   */
  readonly intraOnly?: boolean;
  /**
   * The sender protects every frame with Reed-Solomon parity sized to keep a frame's loss at
   * `targetFrameLoss` (default DEFAULT_FEC_TARGET_FRAME_LOSS, 0.005; encoder/rtp/frame-fec.ts `parityFor`, `fecMediaShare`).
   */
  readonly fec?: { readonly targetFrameLoss?: number };
}

export interface FrameRateTargetOptions {
  /** Frames per second the MLLM samples. Default 2. */
  readonly samplingFps?: number;
  /**
   * The newest good frame should be no older than this when a question comes (questions come at
   * any time). Default 150 ms; Infinity follows the sampling rate alone (Artic's setting).
   */
  readonly maxFrameAgeMs?: number;
  /**
   * Fewer bits than this make an unreadable frame (1280x720 with a region map, inter frames).
   * Default 20 000.
   */
  readonly minBitsPerFrame?: number;
  /**
   * The same floor for an intra-only stream, where a frame cannot lean on the previous one.
   * Default 60 000 (`DEFAULT_MIN_BITS_PER_INTRA_FRAME`, measured there).
   */
  readonly minBitsPerIntraFrame?: number;
  /** RTP payload bytes per packet. Default 1200 (the packetizer's MTU less headers). */
  readonly packetPayloadBytes?: number;
  /** Accepted probability of a window without a good frame. Default 0.05. */
  readonly missProbability?: number;
  /** The sender's pacing rate over its target bitrate (libwebrtc's kDefaultPaceMultiplier). Default 2.5. */
  readonly pacingFactor?: number;
}

export type FrameRateLimit = "sampling" | "loss" | "bits-per-frame" | "max-fps";

export interface FrameRateTarget {
  readonly fps: number;
  /** What decided it: the sampling/freshness floor, the loss, or one of the ceilings. */
  readonly limitedBy: FrameRateLimit;
  readonly bitsPerFrame: number;
  readonly packetsPerFrame: number;
  /** q(f): probability that a frame arrives whole. */
  readonly frameSuccess: number;
  /** miss(f) at the chosen rate. */
  readonly missProbability: number;
}

/**
 * The readability floor of an intra-only 1280x720 frame with a region map, in target bits per
 * frame (bitrate / fps). Measured with devibench/network/intra-floor.ts: bench:network's own
 * sender (x264 veryfast zerolatency baseline, `-g 1`, 600 kbps, VBV of one second) on the 10
 * synthetic clips, 20 text questions each asked at 1..5 s, embedded OCR engine, normalised match:
 *
 *   target kbit/frame (fps)   20 (30)  30 (20)  40 (15)  50 (12)  60 (10)  75 (8)  86 (7)  100 (6)  120 (5)
 *   with the region map         0%       7%      68%      94%      96%      97%     97%      94%      95%
 *   without a map               0%       7%      13%      18%      22%      51%     65%      76%      83%
 *
 * (x264 overshoots the target by about 7%: 60 kbit gives 64.7 kbit frames, 8.7 RTP packets as the
 * H.264 packetizer sends them; one point is one ask of 100.) With the map, accuracy falls off a
 * cliff below 50 kbit (68% at 40) and sits at 94-97% from 50 kbit on, where the long-GOP sender
 * scores 97-99%; the floor is one measured step above the cliff's edge, 60 kbit, as a margin for
 * content busier than these clips. Without a map no rate of 5 fps or more is readable at 600 kbps
 * (83% at 120 kbit); the product sends the map with the question, so the floor is the one with
 * the map. Three times the inter floor (20 kbit): an intra frame carries the whole picture, an
 * inter frame only what changed since the previous one.
 */
export const DEFAULT_MIN_BITS_PER_INTRA_FRAME = 60_000;

function positive(name: string, v: number, allowInfinity = false): void {
  if (!(v > 0) || (!allowInfinity && !Number.isFinite(v))) throw new RangeError(`${name} must be a number > 0, got ${v}`);
}

export function frameRateTarget(input: FrameRateTargetInput, options: FrameRateTargetOptions = {}): FrameRateTarget {
  const samplingFps = options.samplingFps ?? 2;
  const maxFrameAgeMs = options.maxFrameAgeMs ?? 150;
  const minBitsPerFrame = input.intraOnly === true ? options.minBitsPerIntraFrame ?? DEFAULT_MIN_BITS_PER_INTRA_FRAME : options.minBitsPerFrame ?? 20_000;
  const payloadBits = 8 * (options.packetPayloadBytes ?? 1200);
  const eps = options.missProbability ?? 0.05;
  const pacingFactor = options.pacingFactor ?? 2.5;
  positive("pacingFactor", pacingFactor, true);
  positive("samplingFps", samplingFps);
  positive("maxFrameAgeMs", maxFrameAgeMs, true);
  positive(input.intraOnly === true ? "minBitsPerIntraFrame" : "minBitsPerFrame", minBitsPerFrame);
  positive("packetPayloadBytes", payloadBits);
  positive("bitrateBps", input.bitrateBps);
  positive("maxFps", input.maxFps);
  if (!(eps > 0 && eps < 1)) throw new RangeError(`missProbability must be in (0, 1), got ${eps}`);
  if (!(input.lossRate >= 0 && input.lossRate <= 1)) throw new RangeError(`lossRate must be in [0, 1], got ${input.lossRate}`);

  const windowMs = Math.min(1000 / samplingFps, maxFrameAgeMs);
  const evaluate = (fps: number) => {
    const bitsPerFrame = input.bitrateBps / fps;
    let packetsPerFrame = Math.max(1, Math.ceil(bitsPerFrame / payloadBits));
    let frameSuccess = (1 - input.lossRate) ** packetsPerFrame;
    if (input.fec && input.lossRate > 0 && input.lossRate < 1) {
      const target = input.fec.targetFrameLoss ?? DEFAULT_FEC_TARGET_FRAME_LOSS;
      const share = fecMediaShare({ bitrateBps: input.bitrateBps, fps, lossRate: input.lossRate, targetFrameLoss: target, packetPayloadBytes: payloadBits / 8 });
      const k = Math.max(1, Math.ceil((bitsPerFrame * share) / payloadBits));
      const m = parityFor(k, input.lossRate, target);
      packetsPerFrame = k + m;
      frameSuccess = fecFrameSurvival(k, m, input.lossRate);
    }
    const missProbability = (1 - frameSuccess) ** ((fps * windowMs) / 1000);
    return { fps, bitsPerFrame, packetsPerFrame, frameSuccess, missProbability };
  };
  const whole = (f: number) => (f >= 1 ? Math.ceil(f - 1e-9) : f);
  const floor = whole(Math.max(samplingFps, ((1 + 1 / pacingFactor) * 1000) / maxFrameAgeMs));
  const bitsCeil = input.bitrateBps / minBitsPerFrame;
  const ceil = Math.min(input.maxFps, bitsCeil);
  const ceilBy: FrameRateLimit = bitsCeil < input.maxFps ? "bits-per-frame" : "max-fps";
  // Readable frames come first: when even the floor gives too few bits per frame, the ceiling wins.
  if (ceil <= floor) return { ...evaluate(ceil >= 1 ? Math.max(1, Math.floor(ceil)) : ceil), limitedBy: ceil < floor ? ceilBy : "sampling" };

  const candidates: number[] = [floor];
  for (let f = Math.floor(floor) + 1; f <= ceil; f++) candidates.push(f);
  let best = evaluate(floor);
  for (const f of candidates) {
    const e = evaluate(f);
    if (e.missProbability <= eps) return { ...e, limitedBy: f === floor ? "sampling" : "loss" };
    if (e.missProbability < best.missProbability) best = e;
  }
  return { ...best, limitedBy: best.fps === candidates[candidates.length - 1] ? ceilBy : "loss" };
}

/**
 * Packet loss over the last `windowMs` (default 5 s) from the receive path's cumulative counters
 * (packets expected from sequence numbers, packets seen missing), sampled at least `stepMs`
 * (default 1 s) apart. Loss here is what the link did, before any retransmission.
 */
export class PacketLossWindow {
  private readonly samples: Array<{ atMs: number; expected: number; missed: number }> = [];
  private last: { expected: number; missed: number } | null = null;

  constructor(readonly windowMs = 5000, readonly stepMs = 1000) {
    positive("windowMs", windowMs);
    if (!(stepMs >= 0)) throw new RangeError(`stepMs must be >= 0, got ${stepMs}`);
  }

  /** Feeds the cumulative counters; returns the loss fraction over the window (0 without data). */
  update(packetsExpected: number, packetsMissed: number, nowMs: number): number {
    const prev = this.samples[this.samples.length - 1];
    if (this.last === null) {
      this.last = { expected: packetsExpected, missed: packetsMissed };
      this.samples.push({ atMs: nowMs, expected: 0, missed: 0 });
      return this.lossRate;
    }
    if (prev && nowMs - prev.atMs < this.stepMs) return this.lossRate;
    const expected = Math.max(0, packetsExpected - this.last.expected);
    const missed = Math.min(expected, Math.max(0, packetsMissed - this.last.missed));
    this.last = { expected: packetsExpected, missed: packetsMissed };
    this.samples.push({ atMs: nowMs, expected, missed });
    while (this.samples.length > 0 && this.samples[0]!.atMs <= nowMs - this.windowMs) this.samples.shift();
    return this.lossRate;
  }

  get lossRate(): number {
    let e = 0;
    let m = 0;
    for (const s of this.samples) {
      e += s.expected;
      m += s.missed;
    }
    return e > 0 ? m / e : 0;
  }
}
