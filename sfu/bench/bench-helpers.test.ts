import { describe, expect, it } from "vitest";
import { decoderArgs, encoderArgs } from "../publisher/encoder-args.ts";
import { parseBenchArgs } from "./bench-args.ts";
import { isReceiveDecoder, parseProcStat } from "./proc-cpu.ts";
import { answerIsRight, benchScene } from "./scene.ts";

describe("parseProcStat", () => {
  it("reads ppid and utime+stime+cutime+cstime after a command name with spaces and parentheses", () => {
    const line = "4242 (ff (x) mpeg) S 17 4242 17 0 -1 4194304 100 0 0 0 250 50 30 20 20 0 3 0 1000 0 0";
    expect(parseProcStat(line, 100)).toEqual({ pid: 4242, ppid: 17, comm: "ff (x) mpeg", cpuSec: 3, reapedChildrenSec: 0.5 });
  });

  it("returns null for a line without a command name", () => {
    expect(parseProcStat("garbage", 100)).toBeNull();
  });
});

describe("isReceiveDecoder", () => {
  it("accepts the server decoder's IVF-on-stdin input and refuses the publisher's two ffmpeg", () => {
    expect(isReceiveDecoder(["ffmpeg", "-threads", "1", "-f", "ivf", "-i", "pipe:0", "-f", "rawvideo", "pipe:1"])).toBe(true);
    expect(isReceiveDecoder(["ffmpeg", ...decoderArgs({ input: "/tmp/a.mkv", loop: true, width: 640, height: 360, fps: 15 })])).toBe(false);
    for (const codec of ["h264", "vp8"] as const) {
      const args = encoderArgs({ codec, width: 640, height: 360, fps: 15, bitrateBps: 300_000, keyframeIntervalSec: 10, h264Framing: "flv", rects: [] });
      expect(isReceiveDecoder(["ffmpeg", ...args]), codec).toBe(false);
    }
  });
});

describe("parseBenchArgs", () => {
  it("gives the documented defaults with no flags", () => {
    expect(parseBenchArgs([])).toMatchObject({ json: false, questions: 20, maxCalls: 8, seed: 1, cpuCalls: 1, holdSec: 8, fairnessRounds: 6 });
    expect(parseBenchArgs(["--ocr-workers", "2"])).toMatchObject({ ocrWorkers: 2 });
    expect(() => parseBenchArgs(["--fairness-rounds", "0"])).toThrow(/--fairness-rounds must be an integer from 1/);
  });

  it("names the flag that is out of range", () => {
    expect(() => parseBenchArgs(["--max-calls", "0"])).toThrow(/--max-calls must be an integer from 1/);
    expect(() => parseBenchArgs(["--nope"])).toThrow(/nope/);
  });
});

describe("benchScene", () => {
  it("is the same for the same seed, and its questions' answers are on the sign", () => {
    const a = benchScene(7);
    expect(benchScene(7)).toEqual(a);
    const text = a.spec.signs[0]!.lines.join(" ");
    for (const q of a.questions) expect(answerIsRight(text, q.expect), q.text).toBe(true);
  });

  it("scales the layout to 640x360 inside the picture", () => {
    const s = benchScene(7, 640, 360).spec;
    for (const sign of s.signs) expect(sign.x + sign.width <= 640 && sign.y + sign.height <= 360).toBe(true);
  });
});

describe("answerIsRight", () => {
  it("ignores case and spaces, and refuses a different value", () => {
    expect(answerIsRight("seat 12 c", "12C")).toBe(true);
    expect(answerIsRight("12D", "12C")).toBe(false);
  });

  it("counts a refusal as wrong even when it lists the value among what it could read", () => {
    expect(answerIsRight('I cannot answer that: none of the text I can read mentions "seat" (I can read GATE K42 and 2C)', "2C")).toBe(false);
    expect(answerIsRight("I can read 2C and 7C; which one do you mean?", "2C")).toBe(false);
    expect(answerIsRight("The seat is 2C.", "2C")).toBe(true);
  });
});
