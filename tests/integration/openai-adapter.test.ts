/**
 * The OpenAI-compatible client against a local stand-in for the protocol: real HTTP on loopback,
 * real ffmpeg JPEGs. Waits between retries go through an injected sleep, so the tests record the
 * requested delays instead of waiting them out.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { judgeAnswer } from "../../devibench/scoring/judge.ts";
import { resolveFfmpeg } from "../../encoder/ffmpeg/resolve.ts";
import { mulberry32 } from "../../encoder/synth/prng.ts";
import { decodeJpeg } from "../../sfu/mllm/jpeg.ts";
import { OpenAiCompatibleClient, type OpenAiClientOptions } from "../../sfu/mllm/openai/client.ts";
import { MllmError, type VideoFrame } from "../../sfu/mllm/types.ts";
import { startOpenAiProtocolStandIn, type StandIn, type StandInOptions } from "../support/openai-protocol-standin.ts";

const ffmpeg = resolveFfmpeg({ env: process.env }).path;
const running: StandIn[] = [];
let sleeps: number[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
  sleeps = [];
});

async function standIn(respond: StandInOptions["respond"]): Promise<StandIn> {
  const s = await startOpenAiProtocolStandIn({ respond });
  running.push(s);
  return s;
}

function client(baseUrl: string, over: Partial<OpenAiClientOptions> = {}): OpenAiCompatibleClient {
  return new OpenAiCompatibleClient({
    baseUrl,
    model: "test-model",
    ffmpegPath: ffmpeg,
    random: mulberry32(7),
    sleep: async (ms) => void sleeps.push(ms),
    ...over,
  });
}

/** A flat colour with seeded noise (so the JPEG encoder sees texture). */
function frame(width: number, height: number, rgb: [number, number, number]): VideoFrame {
  const rng = mulberry32(width * height);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, rgb[i % 3]! + Math.round((rng() - 0.5) * 16)));
  return { width, height, rgb: data, timestampMs: 0 };
}

function meanColour(f: VideoFrame): number[] {
  const sum = [0, 0, 0];
  for (let i = 0; i < f.rgb.length; i++) sum[i % 3]! += f.rgb[i]!;
  return sum.map((s) => s / (f.width * f.height));
}

async function failure(p: Promise<unknown>): Promise<MllmError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err, "the call should have failed").toBeInstanceOf(MllmError);
  return err as MllmError;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe("OpenAiCompatibleClient.ask", () => {
  it("ask, with two frames, sends the prompt and JPEGs that decode to the right size and colour", async () => {
    const s = await standIn(() => "The sign says OPEN.");
    const c = client(s.baseUrl, { maxImageSide: 320 });
    const result = await c.ask({ prompt: "What does the sign say?", frames: [frame(320, 240, [200, 60, 30]), frame(640, 480, [30, 90, 210])] });

    expect(result).toMatchObject({ text: "The sign says OPEN.", cannotAnswer: false, model: "test-model" });
    expect(result.latencyMs).toBeGreaterThan(0);
    const req = s.requests[0]!;
    expect(req).toMatchObject({ model: "test-model", texts: ["What does the sign say?"], stream: false, maxTokens: 256, temperature: 0 });
    expect(req.headers.authorization).toBeUndefined();
    expect(req.images.map((i) => i.mime)).toEqual(["image/jpeg", "image/jpeg"]);
    const [a, b] = await Promise.all(req.images.map((i) => decodeJpeg(ffmpeg, i.bytes)));
    expect([a!.width, a!.height, b!.width, b!.height]).toEqual([320, 240, 320, 240]); // the second was scaled to maxImageSide
    meanColour(a!).forEach((v, i) => expect(Math.abs(v - [200, 60, 30][i]!)).toBeLessThan(5));
    meanColour(b!).forEach((v, i) => expect(Math.abs(v - [30, 90, 210][i]!)).toBeLessThan(5));
  });

  it("ask, with an apiKey and a per-call maxTokens, sends the bearer token and that limit", async () => {
    const s = await standIn(() => "ok");
    await client(s.baseUrl, { apiKey: "sk-test-123" }).ask({ prompt: "hi", frames: [], maxTokens: 17 });
    expect(s.requests[0]!.headers.authorization).toBe("Bearer sk-test-123");
    expect(s.requests[0]!.maxTokens).toBe(17);
  });

  it("ask, with an empty answer, reports cannotAnswer", async () => {
    const s = await standIn(() => "  ");
    expect(await client(s.baseUrl).ask({ prompt: "hi", frames: [] })).toMatchObject({ text: "", cannotAnswer: true });
  });

  it("ask, with 503 twice then 200, retries after growing waits and succeeds", async () => {
    const s = await standIn((_req, n) => (n <= 2 ? { status: 503 } : "recovered"));
    const result = await client(s.baseUrl).ask({ prompt: "hi", frames: [] });
    expect(result.text).toBe("recovered");
    expect(s.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(250);
    expect(sleeps[0]).toBeLessThanOrEqual(500);
    expect(sleeps[1]).toBeGreaterThanOrEqual(500);
    expect(sleeps[1]).toBeLessThanOrEqual(1000);
    expect(sleeps[1]!).toBeGreaterThan(sleeps[0]!);
  });

  it("ask, with 429 and Retry-After, waits what the server asks, capped at maxMs", async () => {
    const s = await standIn((_req, n) => (n === 1 ? { status: 429, headers: { "retry-after": "2" } } : n === 2 ? { status: 429, headers: { "retry-after": "120" } } : "ok"));
    expect((await client(s.baseUrl).ask({ prompt: "hi", frames: [] })).text).toBe("ok");
    expect(sleeps).toEqual([2000, 8000]);
  });

  it("ask, with 400, fails at once with HTTP_ERROR naming the status and the server's message", async () => {
    const body = JSON.stringify({ error: { message: "image too large for this model", type: "invalid_request_error" } });
    const s = await standIn(() => ({ status: 400, body }));
    const err = await failure(client(s.baseUrl).ask({ prompt: "hi", frames: [] }));
    expect(err).toMatchObject({ code: "HTTP_ERROR", retryable: false });
    expect(err.message).toMatch(/HTTP 400 .*image too large for this model/);
    expect(s.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("ask, with 401 and a long non-JSON body, fails at once with the body truncated", async () => {
    const s = await standIn(() => ({ status: 401, body: `<html>${"x".repeat(5000)}</html>` }));
    const err = await failure(client(s.baseUrl).ask({ prompt: "hi", frames: [] }));
    expect(err).toMatchObject({ code: "HTTP_ERROR", retryable: false });
    expect(err.message).toMatch(/HTTP 401 .*<html>x+… \(\d+ more characters\)/);
    expect(err.message.length).toBeLessThan(700);
  });

  it("ask, with a 200 body lacking choices, fails with BAD_RESPONSE without retrying", async () => {
    const s = await standIn(() => ({ status: 200, body: '{"object":"chat.completion","choices":[]}' }));
    const err = await failure(client(s.baseUrl).ask({ prompt: "hi", frames: [] }));
    expect(err).toMatchObject({ code: "BAD_RESPONSE", retryable: false });
    expect(err.message).toMatch(/choices\[0\]\.message\.content/);
    expect(s.requests).toHaveLength(1);
  });

  it("ask, with a server that never answers, gives TIMEOUT after the retries", async () => {
    const s = await standIn(() => ({ delayMs: 600_000, text: "too late" }));
    const err = await failure(client(s.baseUrl, { timeoutMs: 150, retries: 2 }).ask({ prompt: "hi", frames: [] }));
    expect(err).toMatchObject({ code: "TIMEOUT", retryable: true });
    expect(err.message).toMatch(/within 150 ms .*gave up after 3 attempts/);
    expect(s.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it("ask, with nothing listening on the port, gives UNREACHABLE after the retries", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await failure(client(`http://127.0.0.1:${port}/v1`, { retries: 2 }).ask({ prompt: "hi", frames: [] }));
    expect(err).toMatchObject({ code: "UNREACHABLE", retryable: true });
    expect(err.message).toMatch(/ECONNREFUSED.*gave up after 3 attempts/);
    expect(sleeps).toHaveLength(2);
  });

  it("ask, with concurrency 2 and six calls at once, never has more than two requests in flight", async () => {
    const s = await standIn((req) => ({ delayMs: 80, text: `answer to ${req.texts[0]}` }));
    const c = client(s.baseUrl, { concurrency: 2 });
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => c.ask({ prompt: `q${i}`, frames: [] })));
    expect(results.map((r) => r.text)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `answer to q${i}`));
    expect(s.requests).toHaveLength(6);
    expect(s.maxInFlight).toBe(2);
  });

  it("ask, with the caller's signal aborted mid-request, rejects with CANCELLED and does not retry", async () => {
    const s = await standIn(() => ({ delayMs: 600_000, text: "too late" }));
    const ac = new AbortController();
    const pending = client(s.baseUrl).ask({ prompt: "hi", frames: [], signal: ac.signal });
    await until(() => s.requests.length === 1);
    ac.abort();
    const err = await failure(pending);
    expect(err).toMatchObject({ code: "CANCELLED", retryable: false });
    expect(s.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("ask, with a signal aborted before the call, sends nothing", async () => {
    const s = await standIn(() => "ok");
    const err = await failure(client(s.baseUrl).ask({ prompt: "hi", frames: [frame(16, 16, [0, 0, 0])], signal: AbortSignal.abort() }));
    expect(err.code).toBe("CANCELLED");
    expect(s.requests).toHaveLength(0);
  });
});

describe("OpenAiCompatibleClient.askStream", () => {
  it("askStream, with a streamed answer, yields the chunks in order", async () => {
    const s = await standIn(() => ({ chunks: ["The ", "sign ", "says ", "OPEN", "."] }));
    const got: string[] = [];
    for await (const piece of client(s.baseUrl).askStream({ prompt: "hi", frames: [frame(32, 32, [9, 9, 9])] })) got.push(piece);
    expect(got).toEqual(["The ", "sign ", "says ", "OPEN", "."]);
    expect(s.requests[0]!.stream).toBe(true);
    expect(s.requests[0]!.images).toHaveLength(1);
  });

  it("askStream, with 503 first, retries and then streams", async () => {
    const s = await standIn((_req, n) => (n === 1 ? { status: 503 } : "one two"));
    const got: string[] = [];
    for await (const piece of client(s.baseUrl).askStream({ prompt: "hi", frames: [] })) got.push(piece);
    expect(got.join("")).toBe("one two");
    expect(sleeps).toHaveLength(1);
  });

  it("askStream, left early by the consumer, frees its slot for the next call", async () => {
    const s = await standIn(() => ({ chunks: ["a", "b", "c"] }));
    const c = client(s.baseUrl, { concurrency: 1 });
    for await (const piece of c.askStream({ prompt: "hi", frames: [] })) {
      expect(piece).toBe("a");
      break;
    }
    expect((await c.ask({ prompt: "again", frames: [] })).text).toBe("abc");
  });
});

describe("OpenAiCompatibleClient.ground", () => {
  it("ground, with normalised, 0..1000 code-fenced and empty replies, returns the boxes", async () => {
    const replies = ['{"boxes":[[0.1,0.2,0.5,0.6]]}', 'Sure:\n```json\n{"boxes": [[100, 200, 500, 600]]}\n```', '{"boxes":[]}'];
    const s = await standIn((_req, n) => replies[n - 1]!);
    const c = client(s.baseUrl);
    const f = frame(64, 48, [120, 120, 120]);
    const [a, b, none] = [await c.ground({ question: "Where is the sign?", frame: f }), await c.ground({ question: "q", frame: f }), await c.ground({ question: "q", frame: f })];
    for (const boxes of [a!, b!]) {
      expect(boxes).toHaveLength(1);
      expect(boxes[0]!.x).toBeCloseTo(0.1, 6);
      expect(boxes[0]!.y).toBeCloseTo(0.2, 6);
      expect(boxes[0]!.width).toBeCloseTo(0.4, 6);
      expect(boxes[0]!.height).toBeCloseTo(0.4, 6);
    }
    expect(none).toEqual([]);
    expect(s.requests[0]!.texts[0]).toMatch(/Where is the sign\?[\s\S]*"boxes"/);
    expect(s.requests[0]!.images).toHaveLength(1);
  });
});

describe("judgeAnswer through the client", () => {
  it("judgeAnswer, with Correct, Incorrect and unreadable replies, returns the verdict or BAD_RESPONSE", async () => {
    const replies = ["The meaning is the same.\nResult: Correct", "result: incorrect", "I cannot tell."];
    const s = await standIn((_req, n) => replies[n - 1]!);
    const c = client(s.baseUrl);
    const input = { question: "What colour is the car?", reference: "red", answer: "It's red" };
    expect(await judgeAnswer(c, input)).toEqual({ correct: true, raw: replies[0] });
    expect((await judgeAnswer(c, input)).correct).toBe(false);
    const err = await failure(judgeAnswer(c, input));
    expect(err.code).toBe("BAD_RESPONSE");
    expect(err.message).toContain("I cannot tell.");
    expect(s.requests[0]!.images).toEqual([]);
    expect(s.requests[0]!.texts[0]).toMatch(/Question: What colour is the car\?\nReference answer: red\nCandidate answer: It's red/);
  });
});

describe("the protocol stand-in", () => {
  it("stand-in, with malformed requests, answers 400 with an OpenAI-style error", async () => {
    const s = await standIn(() => "never");
    const post = (body: string) => fetch(`${s.baseUrl}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
    for (const [body, message] of [
      ["{not json", /not valid JSON/],
      ['{"messages":[{"role":"user","content":"hi"}]}', /'model' is required/],
      ['{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://x/y.jpg"}}]}]}', /base64 data URL/],
    ] as const) {
      const res = await post(body);
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: { message: string; type: string } };
      expect(json.error.type).toBe("invalid_request_error");
      expect(json.error.message).toMatch(message);
    }
    expect(s.requests).toHaveLength(0);
    expect(s.rejected).toBe(3);
  });
});
