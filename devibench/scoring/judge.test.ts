import { describe, expect, it } from "vitest";
import { MllmError, type AskRequest, type MllmClient } from "../../sfu/mllm/types.ts";
import { judgeAnswer, judgePrompt, parseVerdict } from "./judge.ts";

function cannedClient(reply: string, seen: AskRequest[] = []): MllmClient {
  return {
    name: "canned",
    ask: async (req) => {
      seen.push(req);
      return { text: reply, cannotAnswer: reply === "", model: "canned", latencyMs: 0 };
    },
  };
}

describe("parseVerdict", () => {
  it("with a plain result line, reads Correct and Incorrect in any case", () => {
    expect(parseVerdict("Result: Correct")).toBe(true);
    expect(parseVerdict("result: INCORRECT")).toBe(false);
  });

  it("with reasoning before the verdict and markdown emphasis, reads the last result line", () => {
    expect(parseVerdict("The reference says red.\nResult: Incorrect? No wait.\n**Result: Correct**")).toBe(true);
    expect(parseVerdict("- Result: correct\n\nResult:incorrect")).toBe(false);
  });

  it("with no result line, raises BAD_RESPONSE quoting the reply", () => {
    expect(() => parseVerdict("The answers match.")).toThrow(/no "Result: Correct".*The answers match/);
  });

  it("with a last result line that is neither verdict, raises BAD_RESPONSE naming the word", () => {
    const err = (() => {
      try {
        parseVerdict("Result: Correct\nResult: Partially");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MllmError);
    expect((err as MllmError).code).toBe("BAD_RESPONSE");
    expect((err as Error).message).toMatch(/"partially"/);
  });
});

describe("judgeAnswer", () => {
  it("with a canned client, sends question, reference and candidate with no frames", async () => {
    const seen: AskRequest[] = [];
    const verdict = await judgeAnswer(cannedClient("Result: Correct", seen), { question: "What colour is the car?", reference: "red", answer: "It is red." });
    expect(verdict).toEqual({ correct: true, raw: "Result: Correct" });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.frames).toEqual([]);
    expect(seen[0]!.prompt).toBe(judgePrompt("What colour is the car?", "red", "It is red."));
    expect(seen[0]!.prompt).toMatch(/Question: What colour is the car\?\nReference answer: red\nCandidate answer: It is red\./);
  });

  it("with an unreadable reply, rejects with BAD_RESPONSE", async () => {
    await expect(judgeAnswer(cannedClient("maybe"), { question: "q", reference: "a", answer: "b" })).rejects.toMatchObject({ code: "BAD_RESPONSE" });
  });
});
