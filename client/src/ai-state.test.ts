import { describe, expect, it } from "vitest";
import { AI_STATE_TEXT, aiState, isRefusal } from "./ai-state.ts";

const base = { connected: true, videoFlowing: true, open: [], lastRefused: false };

describe("aiState", () => {
  it("before the media is up, joining; up with nothing asked, watching", () => {
    expect(aiState({ ...base, connected: false, videoFlowing: false })).toBe("joining");
    expect(aiState(base)).toBe("watching");
    expect(aiState({ ...base, videoFlowing: false })).toBe("waiting-for-video");
  });

  it("a question open: looking until its first words, answering after; waiting for video while none flows", () => {
    expect(aiState({ ...base, open: [{ started: false }] })).toBe("looking");
    expect(aiState({ ...base, open: [{ started: false }, { started: true }] })).toBe("answering");
    expect(aiState({ ...base, videoFlowing: false, open: [{ started: false }] })).toBe("waiting-for-video");
    expect(aiState({ ...base, connected: false, videoFlowing: false, open: [{ started: false }] })).toBe("waiting-for-video");
  });

  it("the server's own word: answering while the model works, waiting when its video stopped", () => {
    expect(aiState({ ...base, open: [{ started: false }], server: "answering" })).toBe("answering");
    expect(aiState({ ...base, open: [{ started: false }], server: "looking" })).toBe("looking");
    expect(aiState({ ...base, server: "idle" })).toBe("waiting-for-video");
    expect(aiState({ ...base, server: "watching" })).toBe("watching");
  });

  it("after a refusal, could not answer, until the next question", () => {
    expect(aiState({ ...base, lastRefused: true })).toBe("cannot-answer");
    expect(aiState({ ...base, lastRefused: true, open: [{ started: false }] })).toBe("looking");
  });

  it("every state has words to show", () => {
    for (const k of ["joining", "watching", "waiting-for-video", "looking", "answering", "cannot-answer"] as const) expect(AI_STATE_TEXT[k]).toMatch(/^AI: /);
  });
});

describe("isRefusal", () => {
  it("the engines' refusals are refusals; answers that mention cannot later are not", () => {
    expect(isRefusal("I cannot answer that: the text is too unclear to read reliably.")).toBe(true);
    expect(isRefusal("I can't see a sign.")).toBe(true);
    expect(isRefusal("R57")).toBe(false);
    expect(isRefusal("The sign says you cannot park here.")).toBe(false);
  });
});
