/**
 * The AI peer's brain in a room: takes a question, points the publisher's bits at the region the
 * question is about (context loop), asks the model with the freshest frames, and streams the
 * answer back. When the model cannot answer from what it has and a map has just been sent, it
 * waits for frames encoded under the map (the publisher acknowledges the version) and asks again:
 * the map is what makes small text readable on a thin uplink.
 *
 * Questions queue per participant, one answered at a time, at most `maxQueued` waiting or in
 * work; more get a "too many questions" reply at once, so a flood costs the server nothing. Every
 * model call goes through `io.schedule` (the call server's FairScheduler, by room). A question
 * asked before the first decoded frame waits for one (`firstFrameWaitMs`). The agent tells the
 * asker what it is doing (`AgentState`), and keeps the frame each of its last answers used, shrunk
 * (`answerFrame(questionId)`): the shell sends the asker a small picture of it on request, so an
 * answer nobody looks at costs no picture.
 *
 * Time, I/O and the model are injected; nothing here opens sockets or starts processes.
 */
import type { AgentState, ToPublisherMessage } from "../protocol/datachannel.ts";
import type { MllmClient, NormalizedBox, VideoFrame } from "../mllm/types.ts";
import { devibenchPrompt } from "../mllm/types.ts";
import type { ContextEngine } from "./context-engine.ts";

export type { AgentState } from "../protocol/datachannel.ts";

export interface StoredFrame {
  readonly frame: VideoFrame;
  /** When the frame was captured (publisher clock, from RTP) and when it was available here. */
  readonly captureMs: number;
  readonly arrivalMs: number;
}

/** The frame an answer came from, for the asker to see (sent by the shell as a small JPEG). */
export interface AnswerFrame {
  readonly questionId: string;
  /** The frame, shrunk to at most `answerFrameMaxSide` (its capture and arrival times kept). */
  readonly frame: StoredFrame;
  /** The size it was decoded at, before shrinking. */
  readonly frameWidth: number;
  readonly frameHeight: number;
  /** Where the answer was read, when the model says (normalised box). */
  readonly box: NormalizedBox | null;
  readonly answeredMs: number;
}

export interface AgentIo {
  /** The newest decoded frames of the publisher's video, newest last (at most `count`). */
  recentFrames(count: number): StoredFrame[];
  /** Sends on the publisher's control data channel; false when it is not open. */
  sendToPublisher(msg: ToPublisherMessage): boolean;
  /** A chunk of the answer to question `id`, to the asker's data channel and the room's chat. */
  emitAnswer(chunk: { id: string; text: string; final: boolean }): void;
  /** What the agent is doing now, to the asker (data channel and signalling). */
  emitState(state: { state: AgentState; seq: number; questionId?: string }): void;
  /** Shrinks a frame to at most `maxSide` for keeping (default: kept as it is). */
  shrink?(frame: VideoFrame, maxSide: number): VideoFrame;
  /** Runs a model call when it is this room's turn (FairScheduler); default: at once. */
  schedule?<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  now(): number;
  /** Resolves after ms (a timer in the shell, instant in tests). */
  sleep(ms: number): Promise<void>;
  log(event: string, fields: Record<string, unknown>): void;
}

export interface RateTarget {
  readonly maxBitrateBps: number;
  readonly maxFramerate: number;
}

export interface AgentOptions {
  /** Rate target while no map is applied. */
  readonly normalRate: RateTarget;
  /**
   * Rate target while a map is applied: the map keeps the region readable with fewer bits
   * (Artic: 46-70% uplink saved at equal accuracy), so the uplink is relieved.
   */
  readonly mappedRate: RateTarget;
  /** Frames given to the model per question. Default 2. */
  readonly framesPerQuestion?: number;
  /** How long to wait for frames encoded under a new map before giving up. Default 4000 ms. */
  readonly mapWaitMs?: number;
  /** Send maps at all (false = the control condition: same rate, no map). Default true. */
  readonly sendMaps?: boolean;
  /** Questions per participant waiting or being answered; more get "too many questions". Default 3. */
  readonly maxQueued?: number;
  /** How long a question asked before the first decoded frame waits for one. Default 5000 ms. */
  readonly firstFrameWaitMs?: number;
  /** Longest question answered (characters); a longer one gets a reply saying so. Default 500. */
  readonly maxQuestionChars?: number;
  /** Who the model's work is for (the room): models that share work fairly use it (AskRequest.account). */
  readonly account?: string;
  /** Answers whose frames are kept for `answerFrame` (the newest). Default 8. */
  readonly keepAnswerFrames?: number;
  /** Longest side of a kept answer frame. Default 480. */
  readonly answerFrameMaxSide?: number;
}

export interface QuestionRecord {
  readonly id: string;
  readonly askedMs: number;
  firstTokenMs: number | null;
  answer: string;
  mapVersion: number | null;
}

export const TOO_MANY_QUESTIONS = "Too many questions at once: I am still answering the ones before. Ask again when they are answered.";
export const NO_VIDEO_YET = "I cannot see any video yet.";

/** Polling step while waiting for frames (the first one, or frames encoded under a new map). */
const POLL_MS = 100;

export class AiAgent {
  private readonly questions: QuestionRecord[] = [];
  private ackedVersion = 0;
  private ackedAtMs = 0;
  private activeMap: { version: number; validUntilMs: number } | null = null;
  private readonly queue: Array<{ id: string; text: string }> = [];
  private working = false;
  private state: AgentState = "joining";
  private stateSeq = 0;
  private stateQuestion: string | undefined;
  private closed = false;
  /** The frames of the last answers, oldest first. */
  private readonly answerFrames = new Map<string, AnswerFrame>();
  /** Aborted on close: a participant who left has its waiting and running model calls dropped. */
  private readonly gone = new AbortController();

  constructor(
    private readonly io: AgentIo,
    private readonly model: MllmClient,
    private readonly context: ContextEngine | null,
    private readonly options: AgentOptions,
  ) {}

  /** What the agent is doing now. */
  get currentState(): AgentState {
    return this.state;
  }

  /** Questions waiting or being answered. */
  get pendingQuestions(): number {
    return this.queue.length + (this.working ? 1 : 0);
  }

  /** The rate target to send when the publisher joins or a map expires. */
  currentRate(nowMs: number): RateTarget {
    return this.activeMap && this.activeMap.validUntilMs > nowMs && this.ackedVersion >= this.activeMap.version
      ? this.options.mappedRate
      : this.options.normalRate;
  }

  onMapAck(version: number, applied: boolean): void {
    if (!applied || version <= this.ackedVersion) return;
    this.ackedVersion = version;
    this.ackedAtMs = this.io.now();
    const r = this.currentRate(this.ackedAtMs);
    this.io.sendToPublisher({ type: "rate-target", maxBitrateBps: r.maxBitrateBps, maxFramerate: r.maxFramerate });
    this.io.log("map-acked", { version });
  }

  /**
   * Whether video is coming in (the shell calls this as frames arrive or stop): between questions
   * the agent is "watching" a live picture or "idle" without one.
   */
  onVideo(live: boolean): void {
    if (this.working) return;
    this.setState(live ? "watching" : this.state === "joining" ? "joining" : "idle");
  }

  /** Sends the current state again (to a peer that just opened its channel). */
  repeatState(): void {
    this.io.emitState({ state: this.state, seq: this.stateSeq, ...(this.stateQuestion !== undefined ? { questionId: this.stateQuestion } : {}) });
  }

  /** The frame the answer to `questionId` used, if it is among the last ones kept. */
  answerFrame(questionId: string): AnswerFrame | undefined {
    return this.answerFrames.get(questionId);
  }

  records(): readonly QuestionRecord[] {
    return this.questions;
  }

  /** Stops taking questions; the one in work finishes, the waiting ones are dropped. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.gone.abort(new Error("the participant left"));
  }

  /** Takes a question; resolves when it is answered (or refused). */
  onQuestion(id: string, text: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    const trimmed = text.trim();
    const refusal = this.refusalFor(trimmed);
    if (refusal !== null) {
      this.reply(id, refusal);
      return Promise.resolve();
    }
    if (this.pendingQuestions >= (this.options.maxQueued ?? 3)) {
      this.io.log("question-refused", { id, reason: "too-many", pending: this.pendingQuestions });
      this.reply(id, TOO_MANY_QUESTIONS);
      return Promise.resolve();
    }
    this.queue.push({ id, text: trimmed });
    return this.drain();
  }

  /** A reply for input that is no question: empty, too long, or no words in it. */
  private refusalFor(text: string): string | null {
    const max = this.options.maxQuestionChars ?? 500;
    if (text === "") return "Please type a question.";
    if (text.length > max) return `That question is ${text.length} characters long; please ask in at most ${max}.`;
    if (!/[\p{L}\p{N}]/u.test(text)) return "I need a question in words, for example: What does the sign say?";
    return null;
  }

  private reply(id: string, text: string): void {
    const rec: QuestionRecord = { id, askedMs: this.io.now(), firstTokenMs: this.io.now(), answer: text, mapVersion: null };
    this.questions.push(rec);
    this.io.emitAnswer({ id, text, final: true });
  }

  private async drain(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      for (let q = this.queue.shift(); q && !this.closed; q = this.queue.shift()) await this.answer(q.id, q.text);
    } finally {
      this.working = false;
      this.setState(this.io.recentFrames(1).length > 0 ? "watching" : "idle");
    }
  }

  private setState(state: AgentState, questionId?: string): void {
    if (state === this.state && questionId === this.stateQuestion) return;
    this.state = state;
    this.stateQuestion = questionId;
    this.stateSeq++;
    this.io.emitState({ state, seq: this.stateSeq, ...(questionId !== undefined ? { questionId } : {}) });
  }

  private schedule<T>(task: () => Promise<T>): Promise<T> {
    return this.io.schedule ? this.io.schedule(task, this.gone.signal) : task();
  }

  /** Waits up to `ms` for the first decoded frame. */
  private async firstFrame(ms: number): Promise<StoredFrame | undefined> {
    const deadline = this.io.now() + ms;
    let f = this.io.recentFrames(1)[0];
    while (!f && this.io.now() < deadline && !this.closed) {
      await this.io.sleep(POLL_MS);
      f = this.io.recentFrames(1)[0];
    }
    return f;
  }

  private async answer(id: string, text: string): Promise<void> {
    const rec: QuestionRecord = { id, askedMs: this.io.now(), firstTokenMs: null, answer: "", mapVersion: null };
    this.questions.push(rec);
    const emit = (chunk: string, final: boolean) => {
      if (rec.firstTokenMs === null) rec.firstTokenMs = this.io.now();
      rec.answer += chunk;
      this.io.emitAnswer({ id, text: chunk, final });
    };
    try {
      let latest = this.io.recentFrames(1)[0];
      if (!latest) {
        this.setState("joining", id);
        latest = await this.firstFrame(this.options.firstFrameWaitMs ?? 5000);
      }
      if (!latest) {
        emit(NO_VIDEO_YET, true);
        return;
      }
      this.setState("answering", id);
      if (this.model.askStream) {
        // A streaming model answers at once from the frames it has, chunks going out as they
        // come; the map (from the region finder) goes out first, for the questions after.
        await this.sendMap(rec, text, latest, null);
        const used = this.io.recentFrames(this.options.framesPerQuestion ?? 2);
        const stream = this.model.askStream({ prompt: devibenchPrompt(text), question: text, frames: used.map((f) => f.frame), signal: this.gone.signal });
        await this.schedule(async () => {
          for await (const chunk of stream) emit(chunk, false);
        });
        emit("", true);
        this.showFrame(id, used, null);
        return;
      }
      let result = await this.ask(text);
      // The map covers where the model read (or tried to read) the answer; a model that does not
      // say where leaves it to the region finder. An answer goes out before the map does.
      if (!result.cannotAnswer) {
        emit(result.text, true);
        this.showFrame(id, result.used, result.box);
        await this.sendMap(rec, text, latest, result.box);
        return;
      }
      await this.sendMap(rec, text, latest, result.box);
      if (rec.mapVersion !== null) {
        // Wait for frames captured after the publisher applied this map, then ask again.
        this.setState("looking", id);
        const deadline = this.io.now() + (this.options.mapWaitMs ?? 4000);
        while (this.io.now() < deadline) {
          await this.io.sleep(2 * POLL_MS);
          const newest = this.io.recentFrames(1)[0];
          if (this.ackedVersion >= rec.mapVersion && newest && newest.arrivalMs > this.ackedAtMs + 300) break;
        }
        this.setState("answering", id);
        if (this.ackedVersion >= rec.mapVersion) result = await this.ask(text);
      }
      emit(result.text, true);
      this.showFrame(id, result.used, result.box);
    } catch (err) {
      this.io.log("answer-failed", { id, error: (err as Error).message });
      emit(`Sorry, I could not answer: ${(err as Error).message}`, true);
    }
  }

  /** Sends the publisher a region map for the question: over `box` when given, else from the region finder. */
  private async sendMap(rec: QuestionRecord, question: string, latest: StoredFrame, box: NormalizedBox | null): Promise<void> {
    if (!this.context || this.options.sendMaps === false) return;
    const m = box
      ? this.context.mapForBoxes([box], true, latest.frame, this.io.now())
      : await this.schedule(() => this.context!.mapFor(question, latest.frame, this.io.now()));
    if (!m) return;
    rec.mapVersion = m.version;
    this.activeMap = { version: m.version, validUntilMs: m.validUntilMs };
    this.io.sendToPublisher({
      type: "region-map", version: m.version, validUntilMs: m.validUntilMs,
      width: m.map.width, height: m.map.height, blockSize: m.map.blockSize, weights: [...m.map.weights],
    });
    this.io.log("map-sent", { version: m.version, regions: m.regions.length, matched: m.matched, from: box ? "answer" : "finder" });
  }

  /** Keeps the newest frame the answer used (shrunk), with where the answer was read. */
  private showFrame(questionId: string, used: readonly StoredFrame[], box: NormalizedBox | null): void {
    const f = used[used.length - 1];
    if (!f) return;
    const maxSide = this.options.answerFrameMaxSide ?? 480;
    const small = this.io.shrink ? this.io.shrink(f.frame, maxSide) : f.frame;
    this.answerFrames.set(questionId, {
      questionId, frame: { ...f, frame: small }, frameWidth: f.frame.width, frameHeight: f.frame.height, box, answeredMs: this.io.now(),
    });
    while (this.answerFrames.size > (this.options.keepAnswerFrames ?? 8)) this.answerFrames.delete(this.answerFrames.keys().next().value!);
  }

  private async ask(question: string): Promise<{ text: string; cannotAnswer: boolean; used: StoredFrame[]; box: NormalizedBox | null }> {
    const used = this.io.recentFrames(this.options.framesPerQuestion ?? 2);
    const a = await this.schedule(() => this.model.ask({ prompt: devibenchPrompt(question), question, frames: used.map((f) => f.frame), signal: this.gone.signal, ...(this.options.account !== undefined ? { account: this.options.account } : {}) }));
    return { text: a.text, cannotAnswer: a.cannotAnswer, used, box: a.grounding?.box ?? null };
  }
}
