/**
 * What the AI is doing, in the words the page shows and screen readers announce: joining (the
 * call is not up yet), watching (video flows, no question open), looking (a question is open and
 * no word of its answer has come: the AI is taking and reading a frame; before the video flows it
 * says so, as it does while connected with no video yet), answering (the answer is coming in), and could not answer (the last answer was a
 * refusal: the AI could not read what was asked). Pure: the page passes what it knows.
 */
export type AiStateKey = "joining" | "watching" | "waiting-for-video" | "looking" | "answering" | "cannot-answer";

export interface AiStateInput {
  /** The media connection is up. */
  readonly connected: boolean;
  /** Frames are being sent (the uplink carries bytes). */
  readonly videoFlowing: boolean;
  /** Questions asked whose final answer has not come, oldest first; `started`: a first chunk came. */
  readonly open: ReadonlyArray<{ readonly started: boolean }>;
  /** The newest finished answer was a refusal. */
  readonly lastRefused: boolean;
  /** What the server's AI peer last said it does (signalling `agent-state`), if it said. */
  readonly server?: "joining" | "watching" | "looking" | "answering" | "idle";
}

export const AI_STATE_TEXT: Record<AiStateKey, string> = {
  joining: "AI: joining the call…",
  watching: "AI: watching your video. Ask a question.",
  "waiting-for-video": "AI: waiting for your video…",
  looking: "AI: looking at your video…",
  answering: "AI: answering…",
  "cannot-answer": "AI: could not answer that from the video. Try pointing the camera closer, or ask another way.",
};

export function aiState(s: AiStateInput): AiStateKey {
  if (s.open.length > 0) {
    // The server says when the model is at work, before any word of the answer comes.
    if (s.open.some((q) => q.started) || s.server === "answering") return "answering";
    return s.connected && s.videoFlowing ? "looking" : "waiting-for-video";
  }
  if (!s.connected) return "joining";
  if (!s.videoFlowing || s.server === "idle") return "waiting-for-video";
  return s.lastRefused ? "cannot-answer" : "watching";
}

/** Whether an answer is a refusal (the engines start one with "I cannot ..." / "I can't ..."). */
export function isRefusal(text: string): boolean {
  return /^\s*I (cannot|can't|could not|am unable to)\b/i.test(text);
}
