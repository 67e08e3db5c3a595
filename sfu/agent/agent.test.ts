import { describe, expect, it } from "vitest";
import type { AskRequest, AskResult, MllmClient, VideoFrame } from "../mllm/types.ts";
import { AiAgent, NO_VIDEO_YET, TOO_MANY_QUESTIONS, type AgentIo, type StoredFrame } from "./agent.ts";

const frame: VideoFrame = { width: 64, height: 36, rgb: new Uint8Array(64 * 36 * 3), timestampMs: 0 };

/** An agent on a virtual clock: sleep() advances it; frames appear when `videoFromMs` is reached. */
function setup(opts: { videoFromMs?: number; modelMs?: number } = {}) {
  let now = 0;
  const answers: Array<{ id: string; text: string; final: boolean }> = [];
  const states: Array<{ state: string; seq: number; questionId?: string }> = [];
  let calls = 0;
  const model: MllmClient = {
    name: "fake-model-for-agent-tests",
    async ask(req: AskRequest): Promise<AskResult> {
      calls++;
      now += opts.modelMs ?? 100;
      return { text: `read ${req.frames.length} frame(s) for: ${req.question}`, cannotAnswer: false, model: "fake", latencyMs: 1 };
    },
  };
  const stored = (): StoredFrame[] => (now >= (opts.videoFromMs ?? 0) ? [{ frame, captureMs: now, arrivalMs: now }] : []);
  const io: AgentIo = {
    recentFrames: (n) => stored().slice(-n),
    sendToPublisher: () => true,
    emitAnswer: (c) => answers.push(c),
    emitState: (s) => states.push(s),
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    log: () => {},
  };
  const agent = new AiAgent(io, model, null, { normalRate: { maxBitrateBps: 600_000, maxFramerate: 15 }, mappedRate: { maxBitrateBps: 240_000, maxFramerate: 15 } });
  return { agent, answers, states, calls: () => calls, now: () => now };
}

describe("AiAgent", () => {
  it("waits for the first frame before answering, and says so in its states", async () => {
    const t = setup({ videoFromMs: 1200 });
    await t.agent.onQuestion("q1", "What does the sign say?");
    expect(t.answers).toEqual([{ id: "q1", text: "read 1 frame(s) for: What does the sign say?", final: true }]);
    expect(t.states.map((s) => [s.state, s.questionId])).toEqual([["joining", "q1"], ["answering", "q1"], ["watching", undefined]]);
    expect(t.states.map((s) => s.seq)).toEqual([1, 2, 3]);
  });

  it("gives up on video after firstFrameWaitMs", async () => {
    const t = setup({ videoFromMs: Infinity });
    await t.agent.onQuestion("q1", "What does the sign say?");
    expect(t.answers.at(-1)).toEqual({ id: "q1", text: NO_VIDEO_YET, final: true });
    expect(t.now()).toBeGreaterThanOrEqual(5000);
    expect(t.calls()).toBe(0);
  });

  it("answers one question at a time, at most three waiting; the rest are refused at once", async () => {
    const t = setup();
    const all = Array.from({ length: 6 }, (_, i) => t.agent.onQuestion(`q${i}`, `question ${i}?`));
    expect(t.answers.filter((a) => a.text === TOO_MANY_QUESTIONS).map((a) => a.id)).toEqual(["q3", "q4", "q5"]);
    await Promise.all(all);
    expect(t.calls()).toBe(3);
    expect(t.answers.filter((a) => a.text.startsWith("read")).map((a) => a.id)).toEqual(["q0", "q1", "q2"]);
  });

  it("replies to empty, too long and wordless questions without asking the model", async () => {
    const t = setup();
    await t.agent.onQuestion("e", "  ");
    await t.agent.onQuestion("l", "x".repeat(4000));
    await t.agent.onQuestion("w", "??? !!!");
    expect(t.answers.map((a) => a.text)).toEqual([
      "Please type a question.",
      "That question is 4000 characters long; please ask in at most 500.",
      "I need a question in words, for example: What does the sign say?",
    ]);
    expect(t.calls()).toBe(0);
  });
});

describe("AiAgent answer frames", () => {
  it("keeps the frame of each of the last answers, shrunk, and forgets older ones", async () => {
    let now = 0;
    const big: VideoFrame = { width: 1280, height: 720, rgb: new Uint8Array(1280 * 720 * 3), timestampMs: 0 };
    const io: AgentIo = {
      recentFrames: (n) => [{ frame: big, captureMs: now - 50, arrivalMs: now - 10 }].slice(-n),
      sendToPublisher: () => true, emitAnswer: () => {}, emitState: () => {}, now: () => now,
      sleep: async (ms) => void (now += ms), log: () => {},
      shrink: (f, side) => ({ ...f, width: side, height: Math.round((side * f.height) / f.width), rgb: new Uint8Array(0) }),
    };
    const model: MllmClient = { name: "fake-model-for-agent-tests", ask: async () => ({ text: "K42", cannotAnswer: false, model: "fake", latencyMs: 1 }) };
    const agent = new AiAgent(io, model, null, { normalRate: { maxBitrateBps: 1, maxFramerate: 1 }, mappedRate: { maxBitrateBps: 1, maxFramerate: 1 }, keepAnswerFrames: 2 });
    for (const id of ["a", "b", "c"]) {
      now += 1000;
      await agent.onQuestion(id, "What gate?");
    }
    expect(agent.answerFrame("a")).toBeUndefined();
    const c = agent.answerFrame("c")!;
    expect(c).toMatchObject({ questionId: "c", frameWidth: 1280, frameHeight: 720, answeredMs: 3000 });
    expect(c.frame.frame.width).toBe(480);
    expect(c.frame.arrivalMs).toBe(2990);
  });
});
