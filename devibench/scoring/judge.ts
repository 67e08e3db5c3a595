/**
 * DeViBench's LLM judge: a text-only model decides whether an answer means the same as the
 * reference answer to the question. Used when exact matching would be too strict for free-form
 * answers ("a red car" against "red").
 */
import { MllmError, type MllmClient } from "../../sfu/mllm/types.ts";

export interface JudgeInput {
  readonly question: string;
  /** The reference (ground-truth) answer. */
  readonly reference: string;
  /** The answer under test. */
  readonly answer: string;
  readonly signal?: AbortSignal;
  /** Room for the verdict; models that explain first need more. Default 128. */
  readonly maxTokens?: number;
}

export interface JudgeVerdict {
  readonly correct: boolean;
  /** The judge's whole reply, kept for auditing the verdict. */
  readonly raw: string;
}

export function judgePrompt(question: string, reference: string, answer: string): string {
  return [
    "You are grading an answer to a question about a video.",
    "Decide whether the candidate answer is semantically consistent with the reference answer, for this question.",
    "",
    "Rules:",
    "- The same meaning counts as correct. Paraphrases, synonyms, different word order, letter case, punctuation, number formats and extra words that do not change the meaning are fine.",
    "- If the candidate leaves out key information the reference gives, or states something wrong or contradicting the reference, it is incorrect.",
    "- If the candidate says it cannot answer, or gives several different answers, it is incorrect.",
    "",
    `Question: ${question}`,
    `Reference answer: ${reference}`,
    `Candidate answer: ${answer}`,
    "",
    'End your reply with exactly one line: "Result: Correct" or "Result: Incorrect".',
  ].join("\n");
}

/**
 * The verdict in a judge's reply: the last line of the form "Result: X" (any case, markdown
 * emphasis allowed), where X must be Correct or Incorrect. Anything else is BAD_RESPONSE.
 */
export function parseVerdict(reply: string): boolean {
  const results = reply
    .split(/\r?\n/)
    .map((line) => /^[\s*_#>`-]*result\s*[*_]*\s*[:：]\s*[*_`]*\s*([a-z]+)/i.exec(line))
    .filter((m): m is RegExpExecArray => m !== null);
  const word = results.at(-1)?.[1]?.toLowerCase();
  if (word === "correct") return true;
  if (word === "incorrect") return false;
  const shown = reply.length > 300 ? `${reply.slice(0, 300)}…` : reply;
  throw new MllmError(
    "BAD_RESPONSE",
    word === undefined
      ? `the judge's reply has no "Result: Correct" or "Result: Incorrect" line: ${JSON.stringify(shown)}`
      : `the judge's last result line says "${word}", not Correct or Incorrect: ${JSON.stringify(shown)}`,
  );
}

/** Asks the judge model (no frames) and returns its verdict with its raw reply. */
export async function judgeAnswer(client: MllmClient, input: JudgeInput): Promise<JudgeVerdict> {
  const result = await client.ask({
    prompt: judgePrompt(input.question, input.reference, input.answer),
    frames: [],
    maxTokens: input.maxTokens ?? 128,
    ...(input.signal ? { signal: input.signal } : {}),
  });
  return { correct: parseVerdict(result.text), raw: result.text };
}
