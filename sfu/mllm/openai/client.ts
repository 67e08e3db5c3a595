/**
 * An MllmClient for any server that speaks OpenAI's chat-completions protocol with image inputs
 * (vLLM, Ollama, llama.cpp server, LM Studio, hosted APIs). Frames go as JPEG data URLs. Failures
 * that may pass (timeouts, refused connections, 408/409/429/5xx) are retried with backoff; the
 * others fail at once with a message that says what the server said.
 */
import { MllmError, type AskRequest, type AskResult, type GroundRequest, type MllmClient, type NormalizedBox, type VideoFrame } from "../types.ts";
import { groundingPrompt, parseBoxes } from "./boxes.ts";
import { resolveOptions, type OpenAiClientOptions, type ResolvedOptions } from "./options.ts";
import { backoffDelay, parseRetryAfter, Semaphore } from "./retry.ts";
import { chunkText, DONE, errorText, sseEvents, truncate } from "./sse.ts";

export type { OpenAiClientOptions } from "./options.ts";

/** Statuses worth another try: timeout, conflict, rate limit, and server-side failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** How long the server asked us to wait, carried from the failed attempt to the retry loop. */
const retryAfterMs = new WeakMap<MllmError, number>();

const cancelled = (signal: AbortSignal | undefined): MllmError =>
  new MllmError("CANCELLED", "the call was cancelled by the caller", { cause: signal?.reason });

/** One attempt's clock: aborts the request when it runs out or when the caller aborts. */
class Deadline {
  readonly controller = new AbortController();
  private timedOut = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onCallerAbort = (): void => this.controller.abort();

  constructor(private readonly ms: number, private readonly caller: AbortSignal | undefined) {
    if (caller?.aborted) this.controller.abort();
    else caller?.addEventListener("abort", this.onCallerAbort, { once: true });
    this.reset();
  }

  /** Starts the clock again (a streamed chunk arrived). */
  reset(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.ms);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener("abort", this.onCallerAbort);
  }

  /** Names a failure of fetch or of reading the body: cancelled, timed out, or the network. */
  classify(err: unknown, endpoint: string): MllmError {
    if (err instanceof MllmError) return err;
    if (this.caller?.aborted) return cancelled(this.caller);
    if (this.timedOut) return new MllmError("TIMEOUT", `no answer from ${endpoint} within ${this.ms} ms`, { retryable: true, cause: err });
    // undici reports network failures as TypeError("fetch failed") with the system error as cause.
    const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
    const code = typeof cause?.code === "string" ? cause.code : undefined;
    const detail = [code, typeof cause?.message === "string" ? cause.message : err instanceof Error ? err.message : String(err)]
      .filter(Boolean)
      .join(": ");
    return new MllmError("UNREACHABLE", `could not reach ${endpoint} (${detail})`, { retryable: true, cause: err });
  }
}

/** The text of `choices[0].message.content` (a string, or a list of text parts), or null. */
function messageText(json: unknown): string | null {
  const content = (json as { choices?: Array<{ message?: { content?: unknown } }> } | null)?.choices?.[0]?.message?.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    const parts = content.map((p: { text?: unknown }) => (typeof p?.text === "string" ? p.text : null));
    return parts.every((p) => p !== null) ? parts.join("") : null;
  }
  return null;
}

export class OpenAiCompatibleClient implements MllmClient {
  readonly name: string;
  private readonly o: ResolvedOptions;
  private readonly slots: Semaphore;

  constructor(options: OpenAiClientOptions) {
    this.o = resolveOptions(options);
    this.name = this.o.name;
    this.slots = new Semaphore(this.o.concurrency);
  }

  async ask(req: AskRequest): Promise<AskResult> {
    const release = await this.slots.acquire(req.signal);
    try {
      const started = performance.now();
      const body = await this.requestBody(req.prompt, req.frames, req.maxTokens, false, req.signal);
      const json = await this.withRetries(req.signal, async () => {
        const deadline = new Deadline(this.o.timeoutMs, req.signal);
        try {
          const res = await this.post(body, deadline);
          const text = await res.text().catch((err: unknown) => Promise.reject(deadline.classify(err, this.o.endpoint)));
          try {
            return JSON.parse(text) as unknown;
          } catch {
            throw new MllmError("BAD_RESPONSE", `${this.o.endpoint} answered with a body that is not JSON: ${truncate(text, 300)}`);
          }
        } finally {
          deadline.dispose();
        }
      });
      const text = messageText(json);
      if (text === null) {
        throw new MllmError("BAD_RESPONSE", `${this.o.endpoint} answered without choices[0].message.content: ${truncate(JSON.stringify(json), 300)}`);
      }
      const model = (json as { model?: unknown }).model;
      return {
        text: text.trim(),
        cannotAnswer: text.trim() === "",
        model: typeof model === "string" && model !== "" ? model : this.o.model,
        latencyMs: performance.now() - started,
      };
    } finally {
      release();
    }
  }

  /**
   * The answer as the server streams it. Retries cover the request up to the response headers;
   * once text has been yielded a failure is thrown as is, since yielded text cannot be taken back.
   */
  async *askStream(req: AskRequest): AsyncGenerator<string> {
    const release = await this.slots.acquire(req.signal);
    try {
      const body = await this.requestBody(req.prompt, req.frames, req.maxTokens, true, req.signal);
      let deadline: Deadline | undefined;
      const res = await this.withRetries(req.signal, async () => {
        deadline = new Deadline(this.o.timeoutMs, req.signal);
        try {
          return await this.post(body, deadline);
        } catch (err) {
          deadline.dispose();
          throw err;
        }
      });
      const clock = deadline!;
      try {
        if (!res.body) throw new MllmError("BAD_RESPONSE", `${this.o.endpoint} sent a streamed answer without a body`);
        const events = sseEvents(res.body);
        try {
          for (;;) {
            const next = await events.next().catch((err: unknown) => Promise.reject(clock.classify(err, this.o.endpoint)));
            if (next.done || next.value === DONE) break;
            clock.reset();
            const text = chunkText(next.value);
            if (text !== "") yield text;
          }
        } finally {
          // Also when the consumer stops early: cancels the body so the connection is not left open.
          await events.return(undefined).catch(() => undefined);
        }
      } finally {
        clock.dispose();
      }
    } finally {
      release();
    }
  }

  async ground(req: GroundRequest): Promise<NormalizedBox[]> {
    const answer = await this.ask({ prompt: groundingPrompt(req.question), question: req.question, frames: [req.frame], ...(req.signal ? { signal: req.signal } : {}) });
    return parseBoxes(answer.text);
  }

  private async requestBody(prompt: string, frames: readonly VideoFrame[], maxTokens: number | undefined, stream: boolean, signal: AbortSignal | undefined): Promise<string> {
    if (typeof prompt !== "string" || prompt === "") throw new MllmError("INVALID_INPUT", "ask needs a non-empty prompt");
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
      throw new MllmError("INVALID_INPUT", `maxTokens must be a positive whole number, got ${maxTokens}`);
    }
    const images = await Promise.all(
      frames.map(async (frame) => {
        const bytes = await this.o.imageEncoder(frame, { quality: this.o.jpegQuality, maxSide: this.o.maxImageSide, ...(signal ? { signal } : {}) }).catch((err: unknown) => {
          if (signal?.aborted) throw cancelled(signal);
          if (err instanceof MllmError) throw err;
          throw new MllmError("INVALID_INPUT", `could not encode a frame as JPEG: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        });
        return { type: "image_url", image_url: { url: `data:image/jpeg;base64,${Buffer.from(bytes).toString("base64")}` } };
      }),
    );
    // Text-only requests (the judge) send a plain string, which text-only servers also accept.
    const content = images.length === 0 ? prompt : [{ type: "text", text: prompt }, ...images];
    return JSON.stringify({
      model: this.o.model,
      messages: [{ role: "user", content }],
      max_tokens: maxTokens ?? this.o.maxTokens,
      temperature: this.o.temperature,
      stream,
    });
  }

  /** One POST; resolves with a 2xx response (body unread), rejects with a classified error. */
  private async post(body: string, deadline: Deadline): Promise<Response> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    if (this.o.apiKey !== undefined) headers.authorization = `Bearer ${this.o.apiKey}`;
    let res: Response;
    try {
      res = await this.o.fetch(this.o.endpoint, { method: "POST", headers, body, signal: deadline.controller.signal });
    } catch (err) {
      throw deadline.classify(err, this.o.endpoint);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    let said = text;
    try {
      const parsed = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
      said = errorText(parsed.error ?? parsed.message ?? parsed.detail ?? text);
    } catch {
      // Not JSON (a proxy's HTML page, say): show the raw text.
    }
    const retryable = isRetryableStatus(res.status);
    const err = new MllmError("HTTP_ERROR", `HTTP ${res.status} from ${this.o.endpoint}: ${truncate(said.trim() || res.statusText, 500)}`, { retryable });
    const wait = retryable ? parseRetryAfter(res.headers.get("retry-after"), this.o.backoff.maxMs, Date.now()) : null;
    if (wait !== null) retryAfterMs.set(err, wait);
    throw err;
  }

  private async withRetries<T>(signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
    for (let retry = 0; ; retry++) {
      if (signal?.aborted) throw cancelled(signal);
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof MllmError) || !err.retryable) throw err;
        if (retry >= this.o.retries) {
          const tries = retry + 1;
          throw new MllmError(err.code, `${err.message} (gave up after ${tries} attempt${tries === 1 ? "" : "s"})`, { retryable: true, cause: err });
        }
        await this.o.sleep(retryAfterMs.get(err) ?? backoffDelay(retry, this.o.backoff, this.o.random), signal);
        if (signal?.aborted) throw cancelled(signal);
      }
    }
  }
}
