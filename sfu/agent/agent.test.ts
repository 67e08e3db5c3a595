import { describe, expect, it } from "vitest";
import type { AskRequest, AskResult, MllmClient, VideoFrame } from "../mllm/types.ts";
import { AiAgent, NO_VIDEO_YET, TOO_MANY_QUESTIONS, type AgentIo, type StoredFrame } from "./agent.ts";
import { ContextEngine } from "./context-engine.ts";

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

/**
 * A publisher on a virtual clock for the rate tests: it sends a frame every 1000/fps ms (captured
 * 30 ms before it arrives); `vision` idle/resume changes the frame rate from the next frame on, a
 * rate change restarts its encoder and a keyframe request asks for one: the next frame at least
 * `keyDelayMs` (150) later is a keyframe.
 */
function ratedSetup(o: { readings?: Array<number | undefined>; cannot?: boolean[]; visionOnDemand?: boolean; modelNeed?: boolean; visionAware?: boolean } = {}) {
  let now = 0;
  const rates: Array<{ atMs: number; bps: number; fps: number }> = [];
  const vision: Array<{ atMs: number; idle: boolean }> = [];
  const frames: StoredFrame[] = [];
  let fps = 15;
  let idleFps: number | null = null;
  let nextFrameMs = 0;
  let keyAtMs: number | null = null;
  const states: string[] = [];
  const seen: StoredFrame[][] = [];
  let keyRequests = 0;
  let asks = 0;
  const advance = (to: number) => {
    while (nextFrameMs <= to) {
      const key = keyAtMs !== null && nextFrameMs >= keyAtMs;
      if (key) keyAtMs = null;
      frames.push({ frame: { ...frame, timestampMs: nextFrameMs }, captureMs: nextFrameMs - 30, arrivalMs: nextFrameMs, keyframe: key, captureLocalMs: nextFrameMs - 30 });
      if (frames.length > 4) frames.shift();
      nextFrameMs += 1000 / (idleFps ?? fps);
    }
    now = to;
  };
  const wantKey = () => {
    keyAtMs ??= now + 150;
  };
  const model: MllmClient = {
    name: "fake-model-for-agent-tests",
    async ask(req: AskRequest): Promise<AskResult> {
      seen.push(frames.filter((f) => req.frames.includes(f.frame)));
      const k = asks++;
      advance(now + 100);
      return { text: o.cannot?.[k] ? "too unclear" : "K42", cannotAnswer: o.cannot?.[k] ?? false, model: "fake", latencyMs: 100, ...(o.readings?.[k] !== undefined ? { readability: o.readings[k] } : {}) };
    },
  };
  const io: AgentIo = {
    recentFrames: (n) => frames.slice(-n),
    sendToPublisher: (msg) => {
      if (msg.type === "rate-target") {
        rates.push({ atMs: now, bps: msg.maxBitrateBps, fps: msg.maxFramerate });
        wantKey();
        fps = msg.maxFramerate;
      }
      if (msg.type === "vision") {
        vision.push({ atMs: now, idle: msg.idle });
        if (o.visionAware !== false) {
          idleFps = msg.idle ? msg.idleFramerate : null;
          // The full rate comes back on the next source frame: within a 15 fps interval.
          if (!msg.idle) nextFrameMs = Math.min(nextFrameMs, now + 1000 / 15);
        }
      }
      return true;
    },
    requestKeyframe: () => {
      keyRequests++;
      wantKey();
    },
    emitAnswer: () => {},
    emitState: (s) => states.push(s.state),
    now: () => now,
    sleep: async (ms) => advance(now + ms),
    log: () => {},
  };
  const agent = new AiAgent(io, model, null, {
    normalRate: { maxBitrateBps: 600_000, maxFramerate: 15 },
    mappedRate: { maxBitrateBps: 240_000, maxFramerate: 15 },
    ...(o.visionOnDemand !== false ? { visionOnDemand: { lingerMs: 5000, resumeWaitMs: 2000 } } : {}),
    ...(o.modelNeed ? { modelNeed: { stepDownAfter: 1 } } : {}),
  });
  return { agent, rates, vision, states, seen, advance, now: () => now, keyRequests: () => keyRequests, asks: () => asks };
}

describe("AiAgent vision on demand", () => {
  it("idles after lingerMs without a question, and a question brings the full frame rate back, answered from a frame taken after it", async () => {
    const t = ratedSetup();
    t.advance(4000);
    t.agent.tick(4000);
    expect(t.vision).toEqual([]);
    t.advance(5000);
    t.agent.tick(5000);
    expect(t.vision).toEqual([{ atMs: 5000, idle: true }]);
    expect(t.agent.rateState).toMatchObject({ visionIdle: true, resumes: 0 });
    // The rate target is not touched: the encoder keeps its bitrate, only frames are fewer.
    expect(t.rates).toEqual([]);
    expect(t.agent.currentRate(5000)).toEqual({ maxBitrateBps: 600_000, maxFramerate: 15 });
    t.advance(9500); // keep-alive frames at 1 fps; the newest arrived at ~9000
    await t.agent.onQuestion("q1", "What gate is shown?");
    expect(t.vision[1]).toEqual({ atMs: 9500, idle: false });
    expect(t.states).toContain("looking");
    expect(t.keyRequests()).toBe(0);
    // Answered from frames captured after the question (less the 100 ms an always-on frame is old), never the keep-alive ones.
    const used = t.seen[0]!;
    expect(used.length).toBeGreaterThan(0);
    expect(used.every((f) => f.captureLocalMs! >= 9400)).toBe(true);
    const st = t.agent.rateState;
    expect(st).toMatchObject({ visionIdle: false, resumes: 1 });
    expect(st.resumeWaitMs[0]).toBeLessThanOrEqual(120);
  });

  it("does not idle while a question is open, and lingers after the answer", async () => {
    const t = ratedSetup();
    t.advance(4900);
    const q = t.agent.onQuestion("q1", "What gate is shown?");
    t.agent.tick(20_000);
    await q;
    expect(t.vision).toEqual([]);
    t.agent.tick(t.now() + 4000);
    expect(t.vision).toEqual([]);
    t.advance(t.now() + 5000);
    t.agent.tick(t.now());
    expect(t.vision.map((v) => v.idle)).toEqual([true]);
  });

  it("answers from what there is when no fresh frame comes (after resumeWaitMs)", async () => {
    const t = ratedSetup({ visionAware: false });
    t.advance(6000);
    t.agent.tick(6000);
    // A publisher that ignores the message keeps 15 fps: the next frame is fresh at once.
    const asked = t.now();
    await t.agent.onQuestion("q1", "What gate is shown?");
    expect(t.agent.rateState.resumeWaitMs[0]).toBeLessThanOrEqual(70);
    expect(t.now() - asked).toBeLessThan(300);
    // Video that stopped: the wait ends at resumeWaitMs and the last frame is used.
    const stopped = ratedSetup();
    stopped.advance(6000);
    stopped.agent.tick(6000);
    const frames = (stopped.agent as unknown as { io: AgentIo }).io;
    const old = frames.recentFrames(4);
    frames.recentFrames = (n) => old.slice(-n);
    stopped.advance(9000);
    await stopped.agent.onQuestion("q1", "What gate is shown?");
    expect(stopped.agent.rateState.resumeWaitMs[0]).toBeGreaterThanOrEqual(2000);
    expect(stopped.asks()).toBe(1);
  });

  /** Idles the publisher at 6 s (after the 5 s linger), then asks at 9.5 s: the question resumes the video. */
  async function askAfterIdle(t: ReturnType<typeof ratedSetup>): Promise<void> {
    t.advance(6000);
    t.agent.tick(6000);
    t.advance(9500);
    await t.agent.onQuestion("q1", "What gate is shown?");
  }

  it.each([
    ["too unclear to read", { readings: [0, 0.95], cannot: [true, false] }],
    ["read under 0.8", { readings: [0.6, 0.95] }],
  ])("looks again a few frames later when the first look after a resume is %s", async (_, o) => {
    const t = ratedSetup(o);
    await askAfterIdle(t);
    expect(t.asks()).toBe(2);
    const firstLook = Math.max(...t.seen[0]!.map((f) => f.arrivalMs));
    expect(Math.min(...t.seen[1]!.map((f) => f.arrivalMs))).toBeGreaterThanOrEqual(firstLook + 300);
  });

  it.each([0.95, 0.85])("does not repeat a first look after a resume read at %s", async (r) => {
    const t = ratedSetup({ readings: [r] });
    await askAfterIdle(t);
    expect(t.asks()).toBe(1);
  });

  it("refuses a keep-alive frame rate out of range", () => {
    const io = { now: () => 0 } as unknown as AgentIo;
    const model = { name: "m", ask: async () => ({ text: "", cannotAnswer: true, model: "m", latencyMs: 0 }) } as MllmClient;
    const rates = { normalRate: { maxBitrateBps: 1, maxFramerate: 1 }, mappedRate: { maxBitrateBps: 1, maxFramerate: 1 } };
    expect(() => new AiAgent(io, model, null, { ...rates, visionOnDemand: { idleFramerate: 0 } })).toThrow(/idleFramerate/);
    expect(() => new AiAgent(io, model, null, { ...rates, visionOnDemand: { lingerMs: -1 } })).toThrow(/lingerMs/);
  });
});

describe("AiAgent model-need cap", () => {
  it("walks the rate down while answers read with margin, and back up with a second look when one cannot be read", async () => {
    const t = ratedSetup({ visionOnDemand: false, modelNeed: true, readings: [0.95, 0.97, 0.85, 0, 0.9], cannot: [false, false, false, true, false] });
    for (let i = 0; i < 3; i++) {
      t.advance(t.now() + 30_000);
      await t.agent.onQuestion(`q${i}`, "What gate is shown?");
    }
    expect(t.rates.map((r) => r.bps)).toEqual([400_000, 300_000]);
    expect(t.agent.rateSource(t.now())).toBe("model");
    expect(t.agent.rateState.modelNeedBps).toBe(300_000);
    t.advance(t.now() + 30_000);
    await t.agent.onQuestion("q3", "What gate is shown?");
    // Unreadable at 300 kbps: straight back to 600, a keyframe at that rate, and the question asked again from it.
    expect(t.rates.map((r) => r.bps)).toEqual([400_000, 300_000, 600_000, 400_000]);
    expect(t.asks()).toBe(5);
    expect(t.keyRequests()).toBe(1);
    expect(t.seen[4]![0]!.keyframe).toBe(true);
  });

  it("going idle forgets the cap: the rate is back at the top while nobody looks, and the next question is read at it with one look", async () => {
    const t = ratedSetup({ modelNeed: true, readings: [0.95, 0.95], cannot: [false, false] });
    await t.agent.onQuestion("q1", "What gate is shown?"); // read with margin: 600 -> 400 kbps
    expect(t.rates.map((r) => r.bps)).toEqual([400_000]);
    t.advance(t.now() + 6000);
    t.agent.tick(t.now());
    const idleAt = t.now();
    expect(t.vision.at(-1)).toEqual({ atMs: idleAt, idle: true });
    expect(t.rates.at(-1)).toEqual({ atMs: idleAt, bps: 600_000, fps: 15 });
    expect(t.agent.rateState.modelNeedBps).toBe(600_000);
    expect(t.agent.rateSource(t.now())).toBe("agent");
    t.advance(t.now() + 3000);
    await t.agent.onQuestion("q2", "What time does it open?");
    expect(t.asks()).toBe(2);
    expect(t.keyRequests()).toBe(0);
    // Its reading counts from the top again: one good reading is a step down (stepDownAfter 1 here).
    expect(t.rates.map((r) => r.bps)).toEqual([400_000, 600_000, 400_000]);
  });

  it("an unreadable first look after a resume at the top looks once more a little later, without a rate change", async () => {
    const t = ratedSetup({ modelNeed: true, readings: [0.95, 0, 0.85], cannot: [false, true, false] });
    await t.agent.onQuestion("q1", "What gate is shown?");
    t.advance(t.now() + 6000);
    t.agent.tick(t.now());
    t.advance(t.now() + 3000);
    await t.agent.onQuestion("q2", "What time does it open?");
    expect(t.asks()).toBe(3);
    expect(t.keyRequests()).toBe(0);
    expect(t.rates.map((r) => r.bps)).toEqual([400_000, 600_000]);
  });

  it("leaves the rate alone for a model that rates no readability", async () => {
    const t = ratedSetup({ visionOnDemand: false, modelNeed: true });
    for (let i = 0; i < 3; i++) await t.agent.onQuestion(`q${i}`, "What gate is shown?");
    expect(t.rates).toEqual([]);
    expect(t.agent.rateSource(t.now())).toBe("agent");
  });
});

/**
 * An agent with region maps on a virtual clock: the model answers from `replies` in turn; the
 * publisher acks each map 200 ms after it is sent; a frame arrives every 100 ms.
 */
function mappedSetup(replies: Array<{ text: string; readability?: number; cannot?: boolean }>, o: { sendMaps?: boolean } = {}) {
  let now = 1000;
  let asks = 0;
  const answers: string[] = [];
  const maps: number[] = [];
  let agent: AiAgent;
  const model: MllmClient = {
    name: "fake-model-for-agent-tests",
    async ask(): Promise<AskResult> {
      const r = replies[Math.min(asks++, replies.length - 1)]!;
      now += 100;
      return {
        text: r.text, cannotAnswer: r.cannot ?? false, model: "fake", latencyMs: 100,
        ...(r.readability !== undefined ? { readability: r.readability } : {}),
        grounding: { box: { x: 0.6, y: 0.1, width: 0.2, height: 0.1 }, confidence: 0.9 },
      };
    },
  };
  const pendingAcks: Array<{ atMs: number; version: number }> = [];
  const io: AgentIo = {
    recentFrames: (n) => [{ frame: { ...frame, timestampMs: now }, captureMs: Math.floor(now / 100) * 100, arrivalMs: Math.floor(now / 100) * 100 }].slice(-n),
    sendToPublisher: (msg) => {
      if (msg.type === "region-map") {
        maps.push(msg.version);
        pendingAcks.push({ atMs: now + 200, version: msg.version });
      }
      return true;
    },
    emitAnswer: (c) => void (c.final && answers.push(c.text)),
    emitState: () => {},
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      while (pendingAcks.length > 0 && pendingAcks[0]!.atMs <= now) agent.onMapAck(pendingAcks.shift()!.version, true);
    },
    log: () => {},
  };
  const finder = { find: async () => ({ boxes: [{ x: 0.6, y: 0.1, width: 0.2, height: 0.1 }], matched: true }) };
  agent = new AiAgent(io, model, new ContextEngine(finder), {
    normalRate: { maxBitrateBps: 600_000, maxFramerate: 15 }, mappedRate: { maxBitrateBps: 240_000, maxFramerate: 15 },
    ...(o.sendMaps === false ? { sendMaps: false } : {}),
  });
  return { agent, answers, maps, asks: () => asks };
}

describe("AiAgent second look through a region map", () => {
  it("an answer read under 0.8 is looked at again through the map before it goes out", async () => {
    const t = mappedSetup([{ text: "KA2", readability: 0.45 }, { text: "K42", readability: 0.97 }]);
    await t.agent.onQuestion("q1", "What gate is shown?");
    expect(t.asks()).toBe(2);
    expect(t.maps).toHaveLength(1);
    expect(t.answers).toEqual(["K42"]);
  });

  it("keeps the first answer when the second look reads less clearly or cannot answer", async () => {
    const a = mappedSetup([{ text: "K42", readability: 0.7 }, { text: "KA2", readability: 0.5 }]);
    await a.agent.onQuestion("q1", "What gate is shown?");
    expect(a.answers).toEqual(["K42"]);
    const b = mappedSetup([{ text: "K42", readability: 0.7 }, { text: "too unclear", cannot: true }]);
    await b.agent.onQuestion("q1", "What gate is shown?");
    expect(b.answers).toEqual(["K42"]);
  });

  it("answers at once when the model read with margin, rates nothing, or maps are off", async () => {
    for (const t of [
      mappedSetup([{ text: "K42", readability: 0.85 }]),
      mappedSetup([{ text: "K42" }]),
      mappedSetup([{ text: "K42", readability: 0.3 }], { sendMaps: false }),
    ]) {
      await t.agent.onQuestion("q1", "What gate is shown?");
      expect(t.asks()).toBe(1);
      expect(t.answers).toEqual(["K42"]);
    }
  });
});
