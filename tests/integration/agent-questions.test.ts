/**
 * The AI peer answers the way people ask, through the real call server: a headless publisher
 * streams a clip with a blue sign and a red sign (other words on each) and asks about them by
 * colour. Checks grounding end to end (the answer and the map come from the sign the question
 * means), a question asked before the first frame reached the server (it waits for one instead of
 * "no video"), answers and answer frames (on request) named by their question's id, the agent's
 * states in order, and the question queue: a flood is bounded and bad questions get a clear reply.
 */
import { describe, expect, it } from "vitest";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { TOO_MANY_QUESTIONS } from "../../sfu/agent/agent.ts";
import { CallServer } from "../../sfu/call/call-server.ts";
import { jpegSize } from "../../sfu/mllm/jpeg.ts";
import type { AgentStateMessage } from "../../sfu/protocol/datachannel.ts";
import type { AnswerFrameMessage } from "../../sfu/protocol/messages.ts";
import { HeadlessPublisher } from "../../sfu/publisher/publisher.ts";
import { fetchToken } from "../../sfu/publisher/signaling-client.ts";
import { answer, lossyLink, sleep, waitFor } from "../support/call-helpers.ts";
import { cleanupsAfterEach, signClipFixture } from "../support/sign-clip.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const SECRET = "integration-test-secret-0123456789abcdef";
const W = 960;
const H = 540;
const BLUE = { x: 90, y: 150, width: 260, height: 80 };
const RED = { x: 600, y: 300, width: 260, height: 80 };

const fx = signClipFixture("it-agent-q-", {
  width: W, height: H, fps: 15, durationSec: 4, seed: 5, shakePx: 2,
  signs: [
    { ...BLUE, fontPx: 34, lines: ["HARBOR"], backgroundColor: "0x2050d0", textColor: "0xffffff" },
    { ...RED, fontPx: 34, lines: ["VELVET"], backgroundColor: "0xd02020", textColor: "0xffffff" },
  ],
});
const cleanups = cleanupsAfterEach();

async function call() {
  const server = new CallServer({ secret: SECRET, ffmpeg, model: fx.engine, regionFinder: fx.regionFinder, analysisWidth: W, analysisHeight: H });
  const addr = await server.listen(0, "127.0.0.1");
  cleanups.push(() => server.close());
  const url = `ws://127.0.0.1:${addr.port}/ws`;
  const publisher = new HeadlessPublisher({
    serverUrl: url, token: await fetchToken(url, "colours", "asker"), iceAdditionalHostAddresses: ["127.0.0.1"],
    encoder: { ffmpeg, input: fx.clip, loop: true, width: W, height: H, fps: 15, bitrateBps: 900_000, speed: "ultrafast" },
  });
  const states: AgentStateMessage[] = [];
  const asked: Array<{ id: string; text: string }> = [];
  publisher.events.on("agent-state", (s) => states.push(s));
  publisher.events.on("question", (q) => asked.push(q));
  cleanups.push(() => publisher.close());
  return { server, publisher, states, asked };
}

describe("the AI peer answers questions that point by colour", () => {
  it("waits for the first frame, answers by colour, names every answer's question, sends its states in order and the frame it used", async () => {
    const { server, publisher, states, asked } = await call();
    await publisher.start();
    // Hold every RTP packet back, so the question surely comes before the first frame.
    const link = lossyLink(publisher, 0, 1, 0);
    link.on = true;
    link.blackout = true;
    const decodedAtAsk = server.metrics()[0]?.framesDecoded ?? 0;
    const first = answer(publisher, "What is written on the blue sign?");
    await sleep(1500);
    link.blackout = false;
    const blue = await first;
    console.log(`[agent-questions] frames decoded when asked: ${decodedAtAsk}; blue sign: ${blue}`);
    expect(decodedAtAsk, "the question came before any frame").toBe(0);
    expect(blue).toContain("HARBOR");
    expect(blue).not.toContain("VELVET");

    const colour = await answer(publisher, "What colour is the sign that says VELVET?");
    console.log(`[agent-questions] colour of the VELVET sign: ${colour}`);
    expect(colour.toLowerCase()).toContain("red");

    // Answers carry their question's id: the server's record of each names it, with the answer.
    const records = server.metrics()[0]!.questions;
    expect(asked).toHaveLength(2);
    expect(records.map((r) => r.id)).toEqual(asked.map((q) => q.id));
    // The frame each answer used, on request: a small JPEG, named by the question, the blue sign outlined.
    const f0: AnswerFrameMessage = await publisher.answerFrame(asked[0]!.id);
    expect(f0.questionId).toBe(asked[0]!.id);
    expect((await publisher.answerFrame(asked[1]!.id)).questionId).toBe(asked[1]!.id);
    await expect(publisher.answerFrame("never-asked")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(jpegSize(Buffer.from(f0.jpegBase64, "base64"))).toEqual({ width: f0.width, height: f0.height });
    expect(Math.max(f0.width, f0.height)).toBeLessThanOrEqual(480);
    expect(f0.frameWidth).toBe(W);
    expect(f0.box).not.toBeNull();
    const cx = (f0.box!.x + f0.box!.width / 2) * W;
    const cy = (f0.box!.y + f0.box!.height / 2) * H;
    expect(cx).toBeGreaterThan(BLUE.x - 10);
    expect(cx).toBeLessThan(BLUE.x + BLUE.width + 10);
    expect(cy).toBeGreaterThan(BLUE.y - 10);
    expect(cy).toBeLessThan(BLUE.y + BLUE.height + 10);
    expect(f0.ageMs).toBeGreaterThanOrEqual(0);

    // States: in order (seq increases), the first question waited for video, then was answered.
    const seqs = states.map((s) => s.seq);
    expect(seqs, JSON.stringify(states)).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const forFirst = states.filter((s) => s.questionId === asked[0]!.id).map((s) => s.state);
    expect(forFirst[0], JSON.stringify(states)).toBe("joining");
    expect(forFirst).toContain("answering");
    expect(states.filter((s) => s.questionId === asked[1]!.id).map((s) => s.state)).toContain("answering");
    await waitFor(() => states.at(-1)?.state === "watching", 3000, "the agent back to watching", () => JSON.stringify(states.slice(-3)));
  });

  it("bounds a flood of questions and answers bad ones with a clear reply", async () => {
    const { server, publisher } = await call();
    await publisher.start();
    await waitFor(() => (server.metrics()[0]?.framesDecoded ?? 0) > 3, 15_000, "video at the server");
    const flood = Array.from({ length: 10 }, () => answer(publisher, "What does the red sign say?"));
    const replies = await Promise.all(flood);
    const refused = replies.filter((r) => r === TOO_MANY_QUESTIONS).length;
    console.log(`[agent-questions] flood of 10: ${10 - refused} answered, ${refused} refused; e.g. ${replies[0]}`);
    expect(refused).toBe(7);
    expect(replies.filter((r) => r.includes("VELVET"))).toHaveLength(3);
    expect(await answer(publisher, "   ")).toBe("Please type a question.");
    // Empty fails the data channel's schema; the server still answers the question's id.
    expect(await answer(publisher, "")).toMatch(/^I could not read that question: .*text/);
    expect(await answer(publisher, `What ${"very ".repeat(200)}long question is this?`)).toMatch(/characters long; please ask in at most 500/);
    expect(await answer(publisher, "?!? ...")).toMatch(/question in words/);
    // The call goes on answering.
    expect(await answer(publisher, "What does the sign on the left say?")).toContain("HARBOR");
  });
});
