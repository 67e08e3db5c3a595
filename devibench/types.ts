/**
 * DeViBench's data model: samples (a question on a 5-second clip), conditions (method x bitrate
 * rung x network), and one result per (sample, condition). Results are written one JSON object per
 * line (JSONL), so an interrupted run resumes where it stopped.
 */

/** A box in source-video pixels. */
export interface PixelBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export type DatasetName = "synthetic" | "devibench-v2" | "devibench-v1";

export interface Sample {
  /** Unique within the dataset: "<sample_id>@<start_time>#<row>" for DeViBench, "syn-<n>-<q>" for synthetic. */
  readonly id: string;
  readonly dataset: DatasetName;
  /** The source video; null when it could not be found (counted and reported, the run goes on). */
  readonly videoPath: string | null;
  /** Segment start and length in the source video, seconds. */
  readonly startSec: number;
  readonly durationSec: number;
  readonly question: string;
  /** Reference answer (for v1: the correct option's text, with its letter in `answerLetter`). */
  readonly answer: string;
  readonly answerLetter?: string;
  /** Multiple-choice options (v1 only), e.g. ["A) Ramon Sanchez-Pizuan", ...]. */
  readonly options?: readonly string[];
  /** DeViBench task type, e.g. "Text-Rich Understanding", "Attribute Perception", "Counting". */
  readonly taskType: string;
  /**
   * How the question points at what it asks about (synthetic set only; real DeViBench rows have
   * none): "label", "colour", "position", "size", "bare", "colour-of", "square-colour", "count".
   */
  readonly family?: string;
  /** Ground-truth region of the answer in source pixels (synthetic set only). */
  readonly regions?: readonly PixelBox[];
  /** Source picture size, when known. */
  readonly width?: number;
  readonly height?: number;
  /** CSV line the sample came from (DeViBench sets), for error messages. */
  readonly line?: number;
}

export type Method = "baseline" | "context";
export type RegionSource = "ground-truth" | "detector" | "grounding";

/**
 * The network axis. "none": the encoded stream reaches the model intact. "link": the stream is
 * sent packet by packet over an emulated uplink (devibench/network: trace or fixed rate, loss,
 * delay) and received with a receive policy; the model sees the newest frame available at each
 * sampled time, and each result carries the clip's per-frame latencies.
 */
export type NetworkCondition =
  | { readonly name: string; readonly kind: "none" }
  | {
      readonly name: string;
      readonly kind: "link";
      /** The `--condition`-style spec (devibench/network/conditions.ts), e.g. "loss=0.05,rtt=100". */
      readonly spec: string;
      readonly policy: "classic" | "resilient";
    };

export interface Condition {
  readonly method: Method;
  /** For the context-aware method: where its region map came from. */
  readonly regionSource?: RegionSource;
  readonly targetKbps: number;
  readonly width: number;
  readonly height: number;
  readonly network: NetworkCondition;
}

export type ResultStatus =
  /** The model answered (right or wrong). */
  | "answered"
  /** The model said it cannot answer (counts as wrong). */
  | "cannot-answer"
  /** Something failed for this sample (video missing or unreadable, encode failed, model down): counted, not scored. */
  | "error";

export interface SampleResult {
  readonly sampleId: string;
  readonly dataset: DatasetName;
  readonly taskType: string;
  /** The sample's phrasing family (synthetic set only). */
  readonly family?: string;
  readonly question: string;
  readonly reference: string;
  readonly condition: Condition;
  readonly status: ResultStatus;
  readonly answer: string | null;
  readonly correct: boolean;
  /** How the answer was scored. */
  readonly scoring: "normalized-match" | "llm-judge" | "none";
  readonly achievedKbps: number | null;
  readonly frames: number;
  readonly encodeMs: number | null;
  readonly answerMs: number | null;
  /** Per-frame latency (capture to available to the model), filled by the network axis; empty for "none". */
  readonly frameLatencyMs?: readonly number[];
  readonly error?: { readonly code: string; readonly message: string };
  /** Path (relative to the run folder) of one sampled frame as JPEG, for the report's examples. */
  readonly exampleFrame?: string;
  /** ISO time the result was written. */
  readonly finishedAt: string;
}

/** What a run was asked to do; printed first and stored beside the results. */
export interface RunConfig {
  readonly dataset: DatasetName;
  readonly datasetPath: string | null;
  readonly videosDir: string | null;
  readonly engine: string;
  readonly methods: readonly Method[];
  readonly regionSource: RegionSource;
  readonly rungs: readonly { readonly targetKbps: number; readonly width: number; readonly height: number }[];
  readonly networks: readonly NetworkCondition[];
  readonly codec: "h264" | "vp8";
  readonly sampling: { readonly fps: number; readonly maxFrames: number; readonly maxSide: number };
  readonly scoring: "normalized-match" | "llm-judge";
  readonly workers: number;
  readonly seed: number;
  readonly limit: number | null;
  readonly outDir: string;
}
