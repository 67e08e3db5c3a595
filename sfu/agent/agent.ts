/**
 * The AI peer's brain in a room: takes a question, points the publisher's bits at the region the
 * question is about (context loop), asks the model with the freshest frames, and streams the
 * answer back. When the model cannot answer from what it has and a map has just been sent, it
 * waits for frames encoded under the map (the publisher acknowledges the version) and asks again:
 * the map is what makes small text readable on a thin uplink.
 *
 * Time, I/O and the model are injected; nothing here opens sockets or starts processes.
 */
import type { ToPublisherMessage } from "../protocol/datachannel.ts";
import type { MllmClient, VideoFrame } from "../mllm/types.ts";
import { devibenchPrompt } from "../mllm/types.ts";
import type { ContextEngine } from "./context-engine.ts";

export interface StoredFrame {
  readonly frame: VideoFrame;
  /** When the frame was captured (publisher clock, from RTP) and when it was available here. */
  readonly captureMs: number;
  readonly arrivalMs: number;
}

export interface AgentIo {
  /** The newest decoded frames of the publisher's video, newest last (at most `count`). */
  recentFrames(count: number): StoredFrame[];
  /** Sends on the publisher's control data channel; false when it is not open. */
  sendToPublisher(msg: ToPublisherMessage): boolean;
  /** A chunk of the answer, to the asker's data channel and the room's chat. */
  emitAnswer(chunk: { id: string; text: string; final: boolean }): void;
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
}

export interface QuestionRecord {
  readonly id: string;
  readonly askedMs: number;
  firstTokenMs: number | null;
  answer: string;
  mapVersion: number | null;
}

export class AiAgent {
  private readonly questions: QuestionRecord[] = [];
  private ackedVersion = 0;
  private ackedAtMs = 0;
  private activeMap: { version: number; validUntilMs: number } | null = null;

  constructor(
    private readonly io: AgentIo,
    private readonly model: MllmClient,
    private readonly context: ContextEngine | null,
    private readonly options: AgentOptions,
  ) {}

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

  records(): readonly QuestionRecord[] {
    return this.questions;
  }

  async onQuestion(id: string, text: string): Promise<void> {
    const rec: QuestionRecord = { id, askedMs: this.io.now(), firstTokenMs: null, answer: "", mapVersion: null };
    this.questions.push(rec);
    const emit = (chunk: string, final: boolean) => {
      if (rec.firstTokenMs === null) rec.firstTokenMs = this.io.now();
      rec.answer += chunk;
      this.io.emitAnswer({ id, text: chunk, final });
    };
    try {
      const latest = this.io.recentFrames(1)[0];
      if (!latest) {
        emit("I cannot see any video yet.", true);
        return;
      }
      if (this.context && this.options.sendMaps !== false) {
        const m = await this.context.mapFor(text, latest.frame, this.io.now());
        if (m) {
          rec.mapVersion = m.version;
          this.activeMap = { version: m.version, validUntilMs: m.validUntilMs };
          this.io.sendToPublisher({
            type: "region-map", version: m.version, validUntilMs: m.validUntilMs,
            width: m.map.width, height: m.map.height, blockSize: m.map.blockSize, weights: [...m.map.weights],
          });
          this.io.log("map-sent", { version: m.version, regions: m.regions.length, matched: m.matched });
        }
      }
      if (this.model.askStream) {
        // A streaming model answers at once from the frames it has; chunks go out as they come.
        const frames = this.io.recentFrames(this.options.framesPerQuestion ?? 2).map((f) => f.frame);
        for await (const chunk of this.model.askStream({ prompt: devibenchPrompt(text), question: text, frames })) emit(chunk, false);
        emit("", true);
        return;
      }
      let result = await this.ask(text);
      if (result.cannotAnswer && rec.mapVersion !== null) {
        // Wait for frames captured after the publisher applied this map, then ask again.
        const deadline = this.io.now() + (this.options.mapWaitMs ?? 4000);
        while (this.io.now() < deadline) {
          await this.io.sleep(200);
          const newest = this.io.recentFrames(1)[0];
          if (this.ackedVersion >= rec.mapVersion && newest && newest.arrivalMs > this.ackedAtMs + 300) break;
        }
        if (this.ackedVersion >= rec.mapVersion) result = await this.ask(text);
      }
      emit(result.text, true);
    } catch (err) {
      this.io.log("answer-failed", { id, error: (err as Error).message });
      emit(`Sorry, I could not answer: ${(err as Error).message}`, true);
    }
  }

  private async ask(question: string): Promise<{ text: string; cannotAnswer: boolean }> {
    const frames = this.io.recentFrames(this.options.framesPerQuestion ?? 2).map((f) => f.frame);
    const a = await this.model.ask({ prompt: devibenchPrompt(question), question, frames });
    return { text: a.text, cannotAnswer: a.cannotAnswer };
  }
}
