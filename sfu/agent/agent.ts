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
import { ModelNeedCap, type ModelNeedOptions } from "./model-need.ts";

export type { AgentState } from "../protocol/datachannel.ts";

export interface StoredFrame {
  readonly frame: VideoFrame;
  /** When the frame was captured (publisher clock, from RTP) and when it was available here. */
  readonly captureMs: number;
  readonly arrivalMs: number;
  /** The frame was a keyframe (after a rate change the model-need cap waits for one). */
  readonly keyframe?: boolean;
  /**
   * When it was captured on this clock, estimated (the capture time plus the least arrival-minus-
   * capture seen: the clocks' offset and the fastest transit). Vision on demand answers only from
   * frames captured after the question. Absent: the arrival time stands in.
   */
  readonly captureLocalMs?: number;
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
  /** Asks the publisher for a keyframe (RTCP PLI); absent: the rate target's restart brings one. */
  requestKeyframe?(): void;
  /** The newest keyframe decoded (it may have left `recentFrames` already); absent: looked for there only. */
  newestKeyframe?(): StoredFrame | undefined;
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

/** What sets the agent's rate target now: the configured rate (normal or mapped) or the model's need. */
export type AgentRateSource = "agent" | "model";

/**
 * Vision on demand: with no question open for `lingerMs`, the publisher is told to idle (`vision`
 * message): it sends `idleFramerate` frames a second with its encoder unchanged, so the track stays
 * published and each frame as sharp as before, at a fraction of the bits. A question brings the
 * full frame rate back at once (the same stream goes on: no restart, no keyframe) and is answered
 * from frames captured after it. Users of agent frameworks ask to turn vision off without
 * unpublishing; an agent that looks only when asked saved 64% of device power at 98% of the
 * accuracy (McpRTC). A publisher that does not know the message (a browser today) stays at full rate.
 */
export interface VisionOnDemandOptions {
  /**
   * Frames a second while idle. Default 2: the first frames after a resume are as sharp as the
   * keep-alive frames were, and each of those had one frame's bits for 1/fps of change (offline:
   * 17 of 18 read right on the first frame after a 2 fps keep-alive, 14 of 18 after 1 fps).
   */
  readonly idleFramerate?: number;
  /** How long after the last answer (or the join) the video stays at full rate. Default 3000 ms. */
  readonly lingerMs?: number;
  /** How long a question waits for a frame captured after it, before using what there is. Default 2000 ms. */
  readonly resumeWaitMs?: number;
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
  /** Vision on demand (keep-alive between questions); absent or null: always on. */
  readonly visionOnDemand?: VisionOnDemandOptions | null;
  /**
   * The model-need cap (model-need.ts): the rate walks down while the model reads with margin and
   * up when it cannot; needs a model that rates readability (AskResult.readability). Absent or
   * null: off.
   */
  readonly modelNeed?: ModelNeedOptions | null;
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
/** Polling step while a question waits for a fresh frame or a keyframe: its wait is the answer's. */
const RESUME_POLL_MS = 20;

/**
 * A frame captured up to this long before the question counts as taken after it: with the video
 * always on, the newest frame is about this old when a question comes (a frame interval and the
 * transit), so vision on demand waits for no fresher picture than always-on would use.
 */
const FRESH_SLACK_MS = 100;
/** After a resume, an unreadable or shaky first look is tried again on frames this much newer than its own (a few frames at the full rate). */
const RESUME_SETTLE_MS = 300;
/**
 * An answer the model read under this readability (ReCapABR's "readable" mark, as the model-need
 * cap's target) gets a second look before it goes out: a little later after a resume of vision
 * on demand (the stream is still sharpening), and through a region map when maps are on:
 * without a map, the relay sign at 100 kbps read at 0.2-0.7 and once as "KA2" for "K42" (the
 * delay-based rate control's test, CI, stop 20); through the map, 0.91-1.0 at 100-200 kbps.
 */
const SHAKY_READABILITY = 0.8;

interface AskOutcome {
  readonly text: string;
  readonly cannotAnswer: boolean;
  readonly used: StoredFrame[];
  readonly box: NormalizedBox | null;
  readonly readability: number | undefined;
}

/** An answer the model gave but read under SHAKY_READABILITY. */
function shakyRead(r: AskOutcome): boolean {
  return !r.cannotAnswer && r.readability !== undefined && r.readability < SHAKY_READABILITY;
}

/**
 * Of an answer and a second look at the same question, the one to give: the second unless it
 * could not answer, or the model read it less clearly than the first.
 */
function clearer(first: AskOutcome, second: AskOutcome): AskOutcome {
  if (first.cannotAnswer || first.readability === undefined) return second;
  if (second.cannotAnswer) return first;
  return second.readability !== undefined && second.readability < first.readability ? first : second;
}

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
  /** Vision on demand: the publisher was told to idle; when the last question ended (or the agent started). */
  private idle = false;
  /** Vision on demand: answers use frames captured from this time on (the last resume's question). */
  private freshCaptureMs = -Infinity;
  private lastActiveMs: number;
  /** Frames that arrived before this were sent before the last resume: not used for answers. */
  private freshFromMs = -Infinity;
  private readonly need: ModelNeedCap | null;
  /** Vision on demand's options with their defaults, checked once; null when off. */
  private readonly vision: Required<VisionOnDemandOptions> | null;
  /** Resumes done, and how long the newest ones waited for a frame captured after the question (ms). */
  private readonly resumeWaits: number[] = [];
  private resumeCount = 0;

  constructor(
    private readonly io: AgentIo,
    private readonly model: MllmClient,
    private readonly context: ContextEngine | null,
    private readonly options: AgentOptions,
  ) {
    this.lastActiveMs = io.now();
    this.need = options.modelNeed ? new ModelNeedCap(options.normalRate.maxBitrateBps, options.modelNeed) : null;
    const v = options.visionOnDemand;
    this.vision = v ? { idleFramerate: v.idleFramerate ?? 2, lingerMs: v.lingerMs ?? 3000, resumeWaitMs: v.resumeWaitMs ?? 2000 } : null;
    if (this.vision) {
      const fps = this.vision.idleFramerate;
      if (!(fps > 0 && fps <= 30)) throw new RangeError(`visionOnDemand.idleFramerate must be in (0, 30], got ${fps}`);
      for (const k of ["lingerMs", "resumeWaitMs"] as const) {
        const x = this.vision[k];
        if (!(x >= 0 && Number.isFinite(x))) throw new RangeError(`visionOnDemand.${k} must be a finite number >= 0, got ${x}`);
      }
    }
  }

  /** What the agent is doing now. */
  get currentState(): AgentState {
    return this.state;
  }

  /** Questions waiting or being answered. */
  get pendingQuestions(): number {
    return this.queue.length + (this.working ? 1 : 0);
  }

  /**
   * The agent's rate target: the configured rate (the mapped one while a map is applied), capped
   * by the model's need when that is on. Vision on demand leaves it alone: it idles the frame rate.
   */
  currentRate(nowMs: number): RateTarget {
    return this.rateNow(nowMs).rate;
  }

  /** What sets `currentRate` now. */
  rateSource(nowMs: number): AgentRateSource {
    return this.rateNow(nowMs).source;
  }

  private rateNow(nowMs: number): { rate: RateTarget; source: AgentRateSource } {
    const configured = this.activeMap && this.activeMap.validUntilMs > nowMs && this.ackedVersion >= this.activeMap.version
      ? this.options.mappedRate
      : this.options.normalRate;
    if (this.need && this.need.bitrateBps < configured.maxBitrateBps) {
      return { rate: { maxBitrateBps: this.need.bitrateBps, maxFramerate: configured.maxFramerate }, source: "model" };
    }
    return { rate: configured, source: "agent" };
  }

  /**
   * The model-need cap now (null when off), and vision on demand's state: idling, questions that
   * resumed the video, and the newest resumes' waits for a frame captured after the question (ms).
   */
  get rateState(): { modelNeedBps: number | null; visionIdle: boolean; resumes: number; resumeWaitMs: readonly number[] } {
    return { modelNeedBps: this.need?.bitrateBps ?? null, visionIdle: this.idle, resumes: this.resumeCount, resumeWaitMs: this.resumeWaits.slice(-20) };
  }

  /**
   * The shell calls this about once a second: with vision on demand and no question open for
   * `lingerMs`, the publisher is told to idle (sent again every tick it is not heard to: the
   * control channel may not be open yet).
   */
  tick(nowMs: number): void {
    const v = this.vision;
    if (!v || this.idle || this.closed || this.working || this.queue.length > 0) return;
    if (nowMs - this.lastActiveMs < v.lingerMs) return;
    if (!this.io.sendToPublisher({ type: "vision", idle: true, idleFramerate: v.idleFramerate })) return;
    this.idle = true;
    this.io.log("vision-idle", { afterMs: Math.round(nowMs - this.lastActiveMs) });
    // The model-need cap's readings were of what the camera showed then; the next look is at
    // whatever it shows when the next question comes (model-need.ts `forget`). Its rate change
    // restarts the encoder now, while nobody looks, not when the question is waiting.
    const before = this.need?.bitrateBps;
    if (this.need?.forget()) {
      this.io.log("model-need", { forgot: true, fromBps: before, toBps: this.need.bitrateBps });
      this.sendRate();
    }
  }

  private sendRate(): void {
    const r = this.currentRate(this.io.now());
    this.io.sendToPublisher({ type: "rate-target", maxBitrateBps: r.maxBitrateBps, maxFramerate: r.maxFramerate });
  }

  onMapAck(version: number, applied: boolean): void {
    if (!applied || version <= this.ackedVersion) return;
    this.ackedVersion = version;
    this.ackedAtMs = this.io.now();
    this.sendRate();
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
      this.lastActiveMs = this.io.now();
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
      const resumed = this.idle;
      if (resumed) latest = (await this.resume(id, rec.askedMs)) ?? latest;
      this.setState("answering", id);
      if (this.model.askStream) {
        // A streaming model answers at once from the frames it has, chunks going out as they
        // come; the map (from the region finder) goes out first, for the questions after.
        await this.sendMap(rec, text, latest, null);
        const used = this.framesForModel();
        const stream = this.model.askStream({ prompt: devibenchPrompt(text), question: text, frames: used.map((f) => f.frame), signal: this.gone.signal });
        await this.schedule(async () => {
          for await (const chunk of stream) emit(chunk, false);
        });
        emit("", true);
        this.showFrame(id, used, null);
        return;
      }
      let result = await this.ask(text);
      // (A resume is always at the top of the model-need ladder: going idle forgot the cap.)
      const unreadable = result.cannotAnswer && result.readability === 0;
      if (resumed && (unreadable || shakyRead(result))) {
        // The first frames after a keep-alive are coarse: each keep-alive frame had one frame's
        // bits for a second of change, and the stream sharpens over the next few frames at the
        // full rate (offline, 1280x720 at 500 kbps: 14 of 18 read right on the first frame after
        // a 1 fps keep-alive, 18 of 18 four frames later). Too unclear, or read under
        // SHAKY_READABILITY ("I5B" for 15B, "1.09 AM" for 1:09, bench:whole-call seed 3): look
        // again a little later and give the clearer-read answer.
        this.io.log("look-again", { id, why: "resume", readability: result.readability ?? null });
        this.setState("looking", id);
        // Frames that came while the model read are already RESUME_SETTLE_MS further into the
        // resume: no need to wait for more when they are there.
        await this.waitForFramesFrom(Math.max(0, ...result.used.map((f) => f.arrivalMs)) + RESUME_SETTLE_MS);
        this.setState("answering", id);
        result = clearer(result, await this.ask(text));
      }
      const raised = this.readNeed(result.readability, result.cannotAnswer);
      // The map covers where the model read (or tried to read) the answer; a model that does not
      // say where leaves it to the region finder. An answer goes out before the map does, unless
      // the model read it under SHAKY_READABILITY and a map can make it clearer.
      const first = result;
      const shaky = shakyRead(result) && this.context !== null && this.options.sendMaps !== false;
      if (!result.cannotAnswer && !shaky) {
        emit(result.text, true);
        this.showFrame(id, result.used, result.box);
        await this.sendMap(rec, text, latest, result.box);
        return;
      }
      if (shaky) this.io.log("look-again", { id, why: "map", readability: result.readability });
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
        if (this.ackedVersion >= rec.mapVersion) result = clearer(first, await this.ask(text));
        this.readNeed(result.readability, result.cannotAnswer);
      } else if (raised) {
        // Too unclear at the model-need cap, which has just gone up: ask again from the frames
        // the higher rate brings (the restart's keyframe), as after a resume.
        const fresh = await this.freshKeyframe(id);
        if (fresh) {
          this.setState("answering", id);
          result = clearer(first, await this.ask(text));
          this.readNeed(result.readability, result.cannotAnswer);
        }
      }
      emit(result.text, true);
      this.showFrame(id, result.used, result.box);
    } catch (err) {
      this.io.log("answer-failed", { id, error: (err as Error).message });
      emit(`Sorry, I could not answer: ${(err as Error).message}`, true);
    }
  }

  /**
   * Vision on demand: a question while the publisher idles brings the full frame rate back at
   * once, and waits ("looking", up to resumeWaitMs) for a frame captured after the question;
   * frames from before it are not used for the answer. Returns that frame, or null when none came
   * in time (the answer then uses what there is).
   */
  private async resume(id: string, askedMs: number): Promise<StoredFrame | null> {
    const v = this.vision!; // only idle when on
    this.idle = false;
    this.resumeCount++;
    this.setState("looking", id);
    this.io.sendToPublisher({ type: "vision", idle: false, idleFramerate: v.idleFramerate });
    const since = askedMs - FRESH_SLACK_MS;
    let fresh: StoredFrame | undefined;
    for (;;) {
      fresh = this.io.recentFrames(8).find((f) => (f.captureLocalMs ?? f.arrivalMs) >= since);
      if (fresh || this.io.now() - askedMs >= v.resumeWaitMs || this.closed) break;
      await this.io.sleep(RESUME_POLL_MS);
    }
    const waitedMs = Math.round(this.io.now() - askedMs);
    this.resumeWaits.push(waitedMs);
    if (this.resumeWaits.length > 20) this.resumeWaits.shift();
    if (fresh) this.freshCaptureMs = since;
    this.io.log("vision-resumed", { id, waitedMs, fresh: fresh !== undefined });
    return fresh ?? null;
  }

  /** Waits until a frame that arrived at or after `until` is there (at most a second past it); answers use frames from then on. */
  private async waitForFramesFrom(until: number): Promise<void> {
    while (this.io.now() < until + 1000 && !this.closed) {
      const newest = this.io.recentFrames(1)[0];
      if (newest && newest.arrivalMs >= until) break;
      await this.io.sleep(RESUME_POLL_MS);
    }
    this.freshFromMs = Math.max(this.freshFromMs, until);
  }

  /** Asks for a keyframe and waits for it ("looking"); frames before it are not used for answers. */
  private async freshKeyframe(id: string, waitMs = 2000): Promise<StoredFrame | null> {
    const since = this.io.now();
    this.setState("looking", id);
    this.io.requestKeyframe?.();
    return this.waitForKeyframe(since, waitMs);
  }

  /** Waits for a keyframe that arrived at or after `since`; frames before it are not used from then on. */
  private async waitForKeyframe(since: number, waitMs: number): Promise<StoredFrame | null> {
    for (;;) {
      // While the model reads, newer frames push the keyframe out of the few recent ones kept:
      // the shell keeps the newest keyframe apart.
      const newest = this.io.newestKeyframe?.();
      const key = newest && newest.arrivalMs >= since ? newest : this.io.recentFrames(8).find((f) => f.keyframe === true && f.arrivalMs >= since);
      if (key) {
        this.freshFromMs = key.arrivalMs;
        return key;
      }
      if (this.io.now() - since >= waitMs || this.closed) return null;
      await this.io.sleep(RESUME_POLL_MS);
    }
  }

  /**
   * The newest frames for the model, none captured before the last resume's question nor sent
   * before the last keyframe waited for (the newest one when that leaves none).
   */
  private framesForModel(): StoredFrame[] {
    const all = this.io.recentFrames(this.options.framesPerQuestion ?? 2);
    const fresh = all.filter((f) => f.arrivalMs >= this.freshFromMs && (f.captureLocalMs ?? f.arrivalMs) >= this.freshCaptureMs);
    return fresh.length > 0 ? fresh : all.slice(-1);
  }

  /**
   * Feeds an answer's readability to the model-need cap; tells the publisher when the cap moved.
   * Returns whether it went up. An answer the model could not give, with no rating, counts as
   * unreadable: below the top of the ladder, fewer bits can turn "OPENS 7:34 PM" into text the
   * engine no longer finds, and it says "no time in it", not "too unclear".
   */
  private readNeed(readability: number | undefined, cannotAnswer: boolean): boolean {
    if (!this.need) return false;
    if (readability === undefined && cannotAnswer) readability = 0;
    const before = this.need.bitrateBps;
    if (!this.need.onReading(readability, this.io.now())) return false;
    this.io.log("model-need", { readability, fromBps: before, toBps: this.need.bitrateBps });
    this.sendRate();
    return this.need.bitrateBps > before;
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

  private async ask(question: string): Promise<AskOutcome> {
    const used = this.framesForModel();
    const a = await this.schedule(() => this.model.ask({ prompt: devibenchPrompt(question), question, frames: used.map((f) => f.frame), signal: this.gone.signal, ...(this.options.account !== undefined ? { account: this.options.account } : {}) }));
    return { text: a.text, cannotAnswer: a.cannotAnswer, used, box: a.grounding?.box ?? null, readability: a.readability };
  }
}
