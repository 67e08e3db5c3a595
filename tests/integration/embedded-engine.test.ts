/**
 * The embedded OCR engine with its real models (PP-OCRv4 on onnxruntime-node) on frames rendered
 * by ffmpeg: a sign reading "GATE K42 / OPENS 7:58 PM / SEAT 18D" on a busy background, with
 * distractor text (see sfu/mllm/embedded/test-scene.ts). Assertions are what was measured.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { NOT_TEXT_ANSWER } from "../../sfu/mllm/embedded/answer.ts";
import { EmbeddedOcrEngine } from "../../sfu/mllm/embedded/engine.ts";
import { iou, type PixelBox } from "../../sfu/mllm/embedded/geometry.ts";
import { renderScene, SIGN_LINES, type Scene } from "../../sfu/mllm/embedded/test-scene.ts";
import { devibenchPrompt, MllmError, type NormalizedBox, type VideoFrame } from "../../sfu/mllm/types.ts";

const GATE_Q = "What gate number is shown on the sign?";
const TIME_Q = "What time does it open according to the sign?";
const SEAT_Q = "Which seat is written on the sign?";
const QUESTIONS: [string, string][] = [
  [GATE_Q, "K42"],
  [TIME_Q, "7:58 PM"],
  [SEAT_Q, "18D"],
];

function toPixels(b: NormalizedBox, frame: VideoFrame): PixelBox {
  return { x: b.x * frame.width, y: b.y * frame.height, width: b.width * frame.width, height: b.height * frame.height };
}

describe("embedded OCR engine (real models)", () => {
  const engine = new EmbeddedOcrEngine({ intraOpNumThreads: 1 });
  let hd: Scene; // 1280x720, 24 px text
  let small: Scene; // 640x360, 12 px text
  let blurred: Scene; // 1280x720, 24 px text, gblur sigma 6
  let veryBlurred: Scene; // sigma 10

  beforeAll(async () => {
    [hd, small, blurred, veryBlurred] = await Promise.all([
      renderScene({ width: 1280, height: 720, fontSize: 24 }),
      renderScene({ width: 640, height: 360, fontSize: 12 }),
      renderScene({ width: 1280, height: 720, fontSize: 24, blurSigma: 6 }),
      renderScene({ width: 1280, height: 720, fontSize: 24, blurSigma: 10 }),
    ]);
    await engine.warmUp();
  });

  it("reads each line of the sign exactly, in reading order, with boxes on the sign", async () => {
    const lines = await engine.readText(hd.frame);
    const texts = lines.map((l) => l.text);
    for (const t of SIGN_LINES) expect(texts).toContain(t);
    const onSign = lines.filter((l) => (SIGN_LINES as readonly string[]).includes(l.text));
    expect(onSign.map((l) => l.text)).toEqual([...SIGN_LINES]);
    for (const l of onSign) {
      expect(l.confidence).toBeGreaterThan(0.9);
      expect(l.box.x).toBeGreaterThanOrEqual(hd.sign.x);
      expect(l.box.y + l.box.height).toBeLessThanOrEqual(hd.sign.y + hd.sign.height);
    }
    // The distractors are read too (they are text, after all).
    expect(texts).toContain("NO SMOKING");
  });

  it("detectText alone finds a box over each sign line", async () => {
    const boxes = await engine.detectText(hd.frame);
    const lines = (await engine.readText(hd.frame)).filter((l) => (SIGN_LINES as readonly string[]).includes(l.text));
    for (const l of lines) expect(Math.max(...boxes.map((b) => iou(b.box, l.box)))).toBeGreaterThan(0.8);
  });

  it.each(QUESTIONS)("answers %s -> %s", async (question, expected) => {
    const r = await engine.ask({ prompt: devibenchPrompt(question), question, frames: [hd.frame] });
    expect(r).toMatchObject({ text: expected, cannotAnswer: false, model: "embedded-ocr" });
    expect(r.latencyMs).toBeGreaterThan(0);
  });

  it("takes the question from the prompt when req.question is absent, and reads a whole sign", async () => {
    const r = await engine.ask({ prompt: devibenchPrompt("What does the sign say?"), frames: [hd.frame] });
    expect(r.text).toBe("GATE K42 / OPENS 7:58 PM / SEAT 18D");
  });

  it("tells the colour of the sign and of its letters from pixels; says it cannot answer the colour of a thing without text, or a label that is not there", async () => {
    const sign = await engine.ask({ prompt: "", question: "What colour is the sign that says GATE K42?", frames: [hd.frame] });
    expect(sign).toMatchObject({ text: "white", cannotAnswer: false });
    expect(iou(toPixels(sign.grounding!.box, hd.frame), hd.sign)).toBeGreaterThan(0.3);
    const letters = await engine.ask({ prompt: "", question: "What colour are the letters on the gate sign?", frames: [hd.frame] });
    expect(letters).toMatchObject({ text: "black", cannotAnswer: false });
    const colour = await engine.ask({ prompt: "", question: "What colour is the car?", frames: [hd.frame] });
    expect(colour).toMatchObject({ text: NOT_TEXT_ANSWER, cannotAnswer: true });
    const platform = await engine.ask({ prompt: "", question: "What platform number is shown?", frames: [hd.frame] });
    expect(platform.cannotAnswer).toBe(true);
    expect(platform.text).toMatch(/platform/);
  });

  it("finds the sign a question is about (IoU > 0.3), and grounds the same way", async () => {
    const r = await engine.textRegionsForQuestion(TIME_Q, hd.frame);
    expect(r.matched).toBe(true);
    const first = r.boxes[0]!;
    expect(iou(toPixels(first, hd.frame), hd.sign)).toBeGreaterThan(0.3);
    expect(first.label).toBe("GATE K42 / OPENS 7:58 PM / SEAT 18D");
    const grounded = await engine.ground({ question: TIME_Q, frame: hd.frame });
    expect(grounded).toEqual(r.boxes);
    const none = await engine.textRegionsForQuestion("What is the dog chasing?", hd.frame);
    expect(none.matched).toBe(false);
    expect(none.boxes.length).toBeGreaterThan(3);
  });

  it("under blur (sigma 6) still reads the gate, but will not answer from the misread lines", async () => {
    // Measured: "GATE K42" survives sigma 6 on 24 px text; "OPENS 7:5B PM" and "SEAT 1BD" do not,
    // and each has a character read at under 0.8, so the engine declines instead of saying "1BD".
    const ask = (question: string) => engine.ask({ prompt: "", question, frames: [blurred.frame] });
    expect((await ask(GATE_Q)).text).toBe("K42");
    for (const q of [TIME_Q, SEAT_Q]) {
      const r = await ask(q);
      expect(r.cannotAnswer).toBe(true);
      expect(r.text).not.toContain(QUESTIONS.find(([qq]) => qq === q)![1]);
    }
  });

  it("does not give the right answers from a heavily blurred frame (sigma 10)", async () => {
    for (const [question, expected] of QUESTIONS) {
      const r = await engine.ask({ prompt: "", question, frames: [veryBlurred.frame] });
      expect(r.text).not.toContain(expected);
      expect(r.cannotAnswer).toBe(true);
    }
  });

  it("votes across frames in time order: two sharp frames outvote a blurred one", async () => {
    const frames = [veryBlurred.frame, hd.frame, { ...hd.frame, timestampMs: 1000 }];
    const r = await engine.ask({ prompt: "", question: GATE_Q, frames });
    expect(r).toMatchObject({ text: "K42", cannotAnswer: false });
  });

  it("at 640x360 with 12 px text, still reads the sign and answers", async () => {
    const texts = (await engine.readText(small.frame)).map((l) => l.text);
    for (const t of SIGN_LINES) expect(texts).toContain(t);
    for (const [question, expected] of QUESTIONS) {
      const r = await engine.ask({ prompt: "", question, frames: [small.frame] });
      expect(r.text).toBe(expected);
    }
  });

  it("serialises concurrent calls and gives the same results as one at a time", async () => {
    const alone = (await engine.readText(hd.frame)).map((l) => l.text);
    const together = await Promise.all([engine.readText(hd.frame), engine.detectText(small.frame), engine.readText(hd.frame)]);
    expect(together[0].map((l) => l.text)).toEqual(alone);
    expect(together[2].map((l) => l.text)).toEqual(alone);
  });

  it("rejects a malformed frame and a cancelled request with typed errors", async () => {
    const bad: VideoFrame = { width: 10, height: 10, rgb: new Uint8Array(10), timestampMs: 0 };
    await expect(engine.readText(bad)).rejects.toMatchObject({ name: "MllmError", code: "INVALID_INPUT" });
    const aborted = AbortSignal.abort();
    await expect(engine.ask({ prompt: "", question: GATE_Q, frames: [hd.frame], signal: aborted })).rejects.toMatchObject({
      code: "CANCELLED",
    });
  });

  it("names the missing model file when the models are not there", async () => {
    const broken = new EmbeddedOcrEngine({ assetsDir: "/nonexistent/ocr-assets" });
    const err = await broken.detectText(hd.frame).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MllmError);
    expect(err).toMatchObject({ code: "MODEL_LOAD_FAILED" });
    expect((err as Error).message).toContain("ch_PP-OCRv4_det_infer.onnx");
  });
});
