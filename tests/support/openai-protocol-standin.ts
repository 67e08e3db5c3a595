/**
 * For tests only: a local stand-in for a remote OpenAI-compatible service. It speaks the
 * chat-completions protocol on 127.0.0.1 (plain and streamed answers, OpenAI-style errors), records
 * every request with its images decoded, and lets each test script the replies. It runs no model.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ParsedImage {
  readonly mime: string;
  readonly bytes: Uint8Array;
}

export interface ParsedChatRequest {
  readonly model: string;
  /** Every text part of every message, in order (a plain string content counts as one part). */
  readonly texts: readonly string[];
  /** Every image_url part, decoded from its data URL. */
  readonly images: readonly ParsedImage[];
  readonly stream: boolean;
  readonly maxTokens: number | undefined;
  readonly temperature: number | undefined;
  readonly headers: { readonly authorization: string | undefined; readonly contentType: string | undefined };
  /** The request body as sent. */
  readonly body: unknown;
}

export type StandInReply =
  /** 200 with this text as the answer (streamed word by word when the request asks for a stream). */
  | string
  /** 200 with these pieces as the streamed chunks (joined when not streamed). */
  | { readonly chunks: readonly string[] }
  /** Any status; body defaults to an OpenAI-style error naming the status. */
  | { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  /** Waits, then answers with text (a long delay plays a server that never answers). */
  | { readonly delayMs: number; readonly text: string };

export interface StandInOptions {
  /** Called for each well-formed request; n counts them from 1. */
  readonly respond: (req: ParsedChatRequest, n: number) => StandInReply | Promise<StandInReply>;
}

export interface StandIn {
  /** e.g. "http://127.0.0.1:41234/v1" */
  readonly baseUrl: string;
  readonly requests: ParsedChatRequest[];
  /** Most requests being answered at the same moment. */
  readonly maxInFlight: number;
  /** Requests turned away as malformed (not passed to respond). */
  readonly rejected: number;
  close(): Promise<void>;
}

class BadRequest extends Error {}

function sendError(res: ServerResponse, status: number, message: string, type = "invalid_request_error", headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ error: { message, type, param: null, code: null } }));
}

/** Checks the request the way a strict server would, and decodes its images. */
export function parseChatRequest(raw: string, headers: IncomingMessage["headers"]): ParsedChatRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new BadRequest("request body is not valid JSON");
  }
  const b = body as { model?: unknown; messages?: unknown; stream?: unknown; max_tokens?: unknown; temperature?: unknown };
  if (typeof b !== "object" || b === null) throw new BadRequest("request body must be a JSON object");
  if (typeof b.model !== "string" || b.model === "") throw new BadRequest("'model' is required and must be a string");
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw new BadRequest("'messages' must be a non-empty array");
  if (b.stream !== undefined && typeof b.stream !== "boolean") throw new BadRequest("'stream' must be a boolean");
  if (b.max_tokens !== undefined && (!Number.isInteger(b.max_tokens) || (b.max_tokens as number) < 1)) throw new BadRequest("'max_tokens' must be a positive integer");
  if (b.temperature !== undefined && typeof b.temperature !== "number") throw new BadRequest("'temperature' must be a number");
  const texts: string[] = [];
  const images: ParsedImage[] = [];
  b.messages.forEach((m: { role?: unknown; content?: unknown }, i: number) => {
    if (typeof m?.role !== "string") throw new BadRequest(`messages[${i}].role must be a string`);
    if (typeof m.content === "string") return void texts.push(m.content);
    if (!Array.isArray(m.content)) throw new BadRequest(`messages[${i}].content must be a string or an array of parts`);
    m.content.forEach((p: { type?: unknown; text?: unknown; image_url?: { url?: unknown } }, j: number) => {
      const where = `messages[${i}].content[${j}]`;
      if (p?.type === "text" && typeof p.text === "string") texts.push(p.text);
      else if (p?.type === "image_url") {
        const url = p.image_url?.url;
        const m2 = typeof url === "string" ? /^data:([\w.+-]+\/[\w.+-]+);base64,([A-Za-z0-9+/=]*)$/.exec(url) : null;
        // The stand-in cannot fetch remote images; only data URLs are accepted.
        if (!m2) throw new BadRequest(`${where}.image_url.url must be a base64 data URL`);
        images.push({ mime: m2[1]!, bytes: new Uint8Array(Buffer.from(m2[2]!, "base64")) });
      } else throw new BadRequest(`${where} must be {type:"text",text} or {type:"image_url",image_url:{url}}`);
    });
  });
  return {
    model: b.model,
    texts,
    images,
    stream: b.stream === true,
    maxTokens: b.max_tokens as number | undefined,
    temperature: b.temperature as number | undefined,
    headers: { authorization: headers.authorization, contentType: headers["content-type"] },
    body,
  };
}

function completion(model: string, text: string): string {
  return JSON.stringify({
    id: "chatcmpl-standin",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  });
}

function chunk(model: string, delta: Record<string, string>, finish: string | null = null): string {
  return `data: ${JSON.stringify({ id: "chatcmpl-standin", object: "chat.completion.chunk", model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

function streamAnswer(res: ServerResponse, model: string, pieces: readonly string[]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  // Like real servers: a role-only first chunk and an empty finishing chunk around the text.
  res.write(chunk(model, { role: "assistant" }));
  for (const p of pieces) res.write(chunk(model, { content: p }));
  res.write(chunk(model, {}, "stop"));
  res.end("data: [DONE]\n\n");
}

export async function startOpenAiProtocolStandIn(options: StandInOptions): Promise<StandIn> {
  const requests: ParsedChatRequest[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let maxInFlight = 0;
  let rejected = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/v1/chat/completions") return sendError(res, 404, `no route for ${req.method} ${req.url}`, "not_found_error");
    if (req.method !== "POST") return sendError(res, 405, `use POST for ${path}`);
    const parts: Buffer[] = [];
    for await (const p of req) parts.push(p as Buffer);
    let parsed: ParsedChatRequest;
    try {
      parsed = parseChatRequest(Buffer.concat(parts).toString("utf8"), req.headers);
    } catch (err) {
      rejected++;
      if (err instanceof BadRequest) return sendError(res, 400, err.message);
      throw err;
    }
    requests.push(parsed);
    let reply = await options.respond(parsed, requests.length);
    if (typeof reply === "object" && "delayMs" in reply) {
      const { delayMs, text } = reply;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => (timers.delete(t), resolve()), delayMs);
        timers.add(t);
      });
      if (res.destroyed) return; // the client gave up waiting
      reply = text;
    }
    if (typeof reply === "object" && "status" in reply) {
      if (reply.body === undefined) return sendError(res, reply.status, `stand-in error ${reply.status}`, "server_error", reply.headers);
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      return void res.end(reply.body);
    }
    const pieces = typeof reply === "string" ? (reply.match(/\S+\s*|\s+/g) ?? []) : reply.chunks;
    if (parsed.stream) return streamAnswer(res, parsed.model, pieces);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(completion(parsed.model, pieces.join("")));
  };

  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, `stand-in failed: ${err instanceof Error ? err.message : String(err)}`, "server_error");
      else res.destroy();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    get rejected() {
      return rejected;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy(); // requests still waiting on a delay would hold close() open
        server.close(() => resolve());
      }),
  };
}
