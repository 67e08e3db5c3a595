/**
 * Scores one answer: DeViBench v1 multiple choice by letter, short answers by normalised match
 * (./../scoring/match.ts), or by an LLM judge through the same MLLM port.
 */
import type { MllmClient } from "../../sfu/mllm/types.ts";
import { judgeAnswer } from "../scoring/judge.ts";
import { matchMultipleChoice, matchShortAnswer } from "../scoring/match.ts";
import type { RunConfig, Sample } from "../types.ts";

export async function scoreAnswer(
  mode: RunConfig["scoring"],
  s: Sample,
  answer: string,
  judge: MllmClient | undefined,
): Promise<{ correct: boolean; method: "normalized-match" | "llm-judge" }> {
  if (mode === "llm-judge") {
    if (!judge) throw new Error("llm-judge scoring needs a judge model (--judge-model)");
    const j = await judgeAnswer(judge, { question: s.question, reference: s.answer, answer });
    return { correct: j.correct, method: "llm-judge" };
  }
  if (s.answerLetter) return { correct: matchMultipleChoice(answer, s.answerLetter, s.answer), method: "normalized-match" };
  return { correct: matchShortAnswer(answer, s.answer), method: "normalized-match" };
}
