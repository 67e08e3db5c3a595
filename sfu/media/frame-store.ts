/**
 * The AI peer's frame store: the latest good decoded frame of one stream, with its capture time and
 * the time it became available. The sampler takes frames from here at the MLLM's pace (1-2 fps).
 *
 * Loss-resilient by construction: a lost or late frame never reaches the store, so when no new frame
 * came since the last sample, the previous good frame stands in, marked `substituted: true`, and
 * nobody waits for a retransmission (architecture.md, "Loss-resilient adaptive frame rate").
 *
 * Pure: times are arguments.
 */
import type { VideoFrame } from "../mllm/types.ts";

export interface StoredFrame {
  readonly frame: VideoFrame;
  /** Capture (media) time, `frame.timestampMs`. */
  readonly captureMs: number;
  /** When the decoded frame became available. */
  readonly arrivalMs: number;
  /** 1, 2, 3... in the order frames were stored. */
  readonly seq: number;
}

export interface SampledFrame extends StoredFrame {
  /** True when no frame newer than the last sample had arrived: this is the previous good one again. */
  readonly substituted: boolean;
  /** nowMs - arrivalMs. */
  readonly ageMs: number;
  /** The frame is older than one sampling interval (1000 / fps): the stream is stalling or slow. */
  readonly stale: boolean;
}

export interface FrameStoreCounters {
  framesStored: number;
  /** Frames refused because their capture time is not after the latest stored one. */
  framesOutOfOrder: number;
  framesSampled: number;
  framesSubstituted: number;
  /** Stored frames replaced before any sample looked at them (a sender sending more than is used). */
  framesUnsampled: number;
}

export class FrameStore {
  private newest: StoredFrame | undefined;
  private lastSampled: StoredFrame | undefined;
  private nextSeq = 1;
  private readonly c: FrameStoreCounters = {
    framesStored: 0, framesOutOfOrder: 0, framesSampled: 0, framesSubstituted: 0, framesUnsampled: 0,
  };

  get counters(): Readonly<FrameStoreCounters> {
    return { ...this.c };
  }

  /** Stores a good decoded frame; returns false (and keeps the current one) if it is not newer. */
  put(frame: VideoFrame, arrivalMs: number): boolean {
    if (this.newest && frame.timestampMs <= this.newest.captureMs) {
      this.c.framesOutOfOrder++;
      return false;
    }
    if (this.newest && this.newest !== this.lastSampled) this.c.framesUnsampled++;
    this.newest = { frame, captureMs: frame.timestampMs, arrivalMs, seq: this.nextSeq++ };
    this.c.framesStored++;
    return true;
  }

  latest(): StoredFrame | undefined {
    return this.newest;
  }

  /**
   * The frame for a sample taken at `nowMs` by a sampler running at `fps`: the newest frame if it
   * is newer than the last sample's, else the last sample's frame again with `substituted: true`.
   * Undefined until a frame has been stored.
   */
  sampleAt(nowMs: number, fps: number): SampledFrame | undefined {
    if (!(fps > 0)) throw new RangeError(`fps must be > 0, got ${fps}`);
    const newest = this.newest;
    if (!newest) return undefined;
    const fresh = this.lastSampled === undefined || newest.seq > this.lastSampled.seq;
    const chosen = fresh ? newest : this.lastSampled!;
    this.lastSampled = chosen;
    this.c.framesSampled++;
    if (!fresh) this.c.framesSubstituted++;
    const ageMs = nowMs - chosen.arrivalMs;
    return { ...chosen, substituted: !fresh, ageMs, stale: ageMs > 1000 / fps };
  }
}
