import { describe, expect, it } from "vitest";
import { matchMultipleChoice, matchShortAnswer, normalizeAnswer } from "./match.ts";

describe("normalizeAnswer", () => {
  it.each([
    ["The Gate is K42.", "gate is k42"],
    ["3 - 1", "3-1"],
    ["7:58 PM", "7:58pm"],
    ["$1,250.00", "1250"],
    ["Four", "4"],
    ["“Yellow”", "yellow"],
    ["12.49", "12.49"],
    ["En-Nesyri", "en-nesyri"],
    ["Gray.", "grey"],
  ])("normalises %j to %j", (input, out) => {
    expect(normalizeAnswer(input)).toBe(out);
  });
});

describe("matchShortAnswer", () => {
  it("with case, punctuation, spacing and number-format differences, matches", () => {
    expect(matchShortAnswer("k42", "K42")).toBe(true);
    expect(matchShortAnswer("3-1", "3 - 1")).toBe(true);
    expect(matchShortAnswer("7:58pm", "7:58 PM")).toBe(true);
    expect(matchShortAnswer("four", "4")).toBe(true);
    expect(matchShortAnswer("$12.49", "12.49")).toBe(true);
    expect(matchShortAnswer("It is gray", "grey")).toBe(true);
  });

  it("with the reference inside a sentence and no competing number, matches", () => {
    expect(matchShortAnswer("The gate shown is K42.", "K42")).toBe(true);
    expect(matchShortAnswer("It opens at 7:58 PM", "7:58 PM")).toBe(true);
  });

  it("with a competing number, a different value or an empty answer, does not match", () => {
    expect(matchShortAnswer("3 or 4", "3")).toBe(false);
    expect(matchShortAnswer("K43", "K42")).toBe(false);
    expect(matchShortAnswer("", "K42")).toBe(false);
    expect(matchShortAnswer("I cannot answer that", "K42")).toBe(false);
    expect(matchShortAnswer("7:58", "7:58 PM")).toBe(false);
  });
});

describe("matchMultipleChoice", () => {
  it("with the right letter in any usual form, or the option's text, matches", () => {
    for (const a of ["B", "B)", "(B) Ramon", "Option B", "b. something"]) expect(matchMultipleChoice(a, "B", "B) Ramon Sanchez-Pizjuan")).toBe(true);
    expect(matchMultipleChoice("It is Ramon Sanchez-Pizjuan", "B", "B) Ramon Sanchez-Pizjuan")).toBe(true);
  });

  it("with another letter, does not match", () => {
    expect(matchMultipleChoice("A", "B", "B) Ramon Sanchez-Pizjuan")).toBe(false);
    expect(matchMultipleChoice("C) Ramon", "B", "B) Ramon Sanchez-Pizjuan")).toBe(false);
  });
});
