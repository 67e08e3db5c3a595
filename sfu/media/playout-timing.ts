/**
 * When a WebRTC receiver hands a complete frame on: libwebrtc does not deliver frames the moment
 * they are complete, it plays them out at a render time that absorbs network jitter, so that a
 * person sees smooth motion. This models that timing for the classic receive policy (what an AI
 * agent built on a standard WebRTC stack gets: its video sink is fed at that time), so that a
 * benchmark compares it fairly with the AI path, which hands every frame on as soon as it is whole.
 *
 * After libwebrtc (modules/video_coding/timing/jitter_estimator.cc and timing.cc):
 *
 *   frame delay variation  d_i = (arrival_i - arrival_{i-1}) - (capture_i - capture_{i-1})
 *   noise                  var_noise <- EWMA of (d_i - mean d)^2 (alpha 0.95 here; libwebrtc's
 *                          count-dependent alpha tends to 0.9971 per frame at 30 fps)
 *   jitter estimate        max(1, 2.33 * sqrt(var_noise) - 30) ms           (NoiseThreshold)
 *                          + 10 ms                                          (OPERATING_SYSTEM_JITTER)
 *                          + RTT, once 3 or more frames needed a retransmission (kNackLimit = 3;
 *                          dropped again after 60 s without one, kNackCountTimeout)
 *   target delay           jitter estimate + decode time + render delay (10 ms)
 *   current delay          follows the target by at most 100 ms per second of media
 *                          (kDelayMaxChangeMsPerS), and jumps up, at most to the target, when a
 *                          frame completes later than its render time allows (UpdateCurrentDelay)
 *   render time            capture + minimum transit seen + current delay
 *   frame handed on at     max(complete, render time - render delay)
 *
 * Left out, which makes this model hand frames on EARLIER than libwebrtc does: the frame-size term
 * of the jitter estimate (theta * (max frame size - mean frame size), its Kalman filter on frame
 * size against delay: large keyframes add to libwebrtc's delay) and the timestamp extrapolator's
 * drift tracking (we map capture times with the smallest transit seen).
 *
 * Pure: every time is an argument (ms on one clock).
 */

export interface PlayoutTimingOptions {
  /** libwebrtc's default render delay. Default 10 ms. */
  readonly renderDelayMs?: number;
  /** Time to decode a frame (libwebrtc measures it; its p95). Default 5 ms. */
  readonly decodeMs?: number;
  /** EWMA weight kept per frame for the noise variance. Default 0.95. */
  readonly noiseAlpha?: number;
}

const NOISE_STD_DEVS = 2.33;
const NOISE_STD_DEV_OFFSET_MS = 30;
const OS_JITTER_MS = 10;
const NACK_LIMIT = 3;
const MAX_CHANGE_MS_PER_S = 100;
const NACK_COUNT_TIMEOUT_MS = 60_000;

export interface PlayoutDecision {
  /** When the frame is handed to the sink (the MLLM's frame store). */
  readonly availableMs: number;
  /** The delay in force and the target it follows, ms. */
  readonly currentDelayMs: number;
  readonly targetDelayMs: number;
}

export class PlayoutTiming {
  private readonly renderDelayMs: number;
  private readonly decodeMs: number;
  private readonly alpha: number;
  private minTransitMs = Infinity;
  private prev: { captureMs: number; completeMs: number } | null = null;
  private meanD = 0;
  private varNoise = 0;
  private framesNacked = 0;
  private lastNackMs = -Infinity;
  private currentDelayMs: number | null = null;
  private lastCaptureMs: number | null = null;

  constructor(o: PlayoutTimingOptions = {}) {
    this.renderDelayMs = o.renderDelayMs ?? 10;
    this.decodeMs = o.decodeMs ?? 5;
    this.alpha = o.noiseAlpha ?? 0.95;
    for (const [k, v] of [["renderDelayMs", this.renderDelayMs], ["decodeMs", this.decodeMs]] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`${k} must be a finite number >= 0, got ${v}`);
    }
    if (!(this.alpha > 0 && this.alpha < 1)) throw new RangeError(`noiseAlpha must be in (0, 1), got ${this.alpha}`);
  }

  /** The jitter part of the target delay now, given the round-trip time. */
  jitterEstimateMs(rttMs: number): number {
    const noise = Math.max(1, NOISE_STD_DEVS * Math.sqrt(this.varNoise) - NOISE_STD_DEV_OFFSET_MS);
    return noise + OS_JITTER_MS + (this.framesNacked >= NACK_LIMIT ? rttMs : 0);
  }

  /**
   * A frame captured at `captureMs` became complete (decodable) at `completeMs`; `nacked` when a
   * retransmission completed it. Frames come in decode order. Returns when it is handed on.
   */
  frame(captureMs: number, completeMs: number, nacked: boolean, rttMs: number): PlayoutDecision {
    if (nacked) {
      this.framesNacked = Math.min(NACK_LIMIT, this.framesNacked + 1);
      this.lastNackMs = completeMs;
    } else if (completeMs - this.lastNackMs > NACK_COUNT_TIMEOUT_MS) {
      this.framesNacked = 0;
    }
    const transit = completeMs - captureMs;
    this.minTransitMs = Math.min(this.minTransitMs, transit);
    if (this.prev) {
      const d = completeMs - this.prev.completeMs - (captureMs - this.prev.captureMs);
      // libwebrtc feeds only frames that are not late retransmissions into the noise estimate.
      if (!nacked) {
        const dev = d - this.meanD;
        this.meanD = this.alpha * this.meanD + (1 - this.alpha) * d;
        this.varNoise = this.alpha * this.varNoise + (1 - this.alpha) * dev * dev;
      }
    }
    this.prev = { captureMs, completeMs };
    const target = this.jitterEstimateMs(rttMs) + this.decodeMs + this.renderDelayMs;
    if (this.currentDelayMs === null) this.currentDelayMs = target;
    else {
      const dt = this.lastCaptureMs === null ? 0 : Math.max(0, captureMs - this.lastCaptureMs);
      const step = (MAX_CHANGE_MS_PER_S * dt) / 1000;
      const diff = target - this.currentDelayMs;
      this.currentDelayMs += Math.max(-step, Math.min(step, diff));
    }
    this.lastCaptureMs = captureMs;
    let render = captureMs + this.minTransitMs + this.currentDelayMs;
    // A frame that completes after its render slot: the delay grows by how late it was, up to
    // the target; the frame itself is handed on when it is complete.
    const lateBy = completeMs + this.decodeMs + this.renderDelayMs - render;
    if (lateBy > 0) this.currentDelayMs = Math.min(target, this.currentDelayMs + lateBy);
    return { availableMs: Math.max(completeMs, render - this.renderDelayMs), currentDelayMs: this.currentDelayMs, targetDelayMs: target };
  }
}
