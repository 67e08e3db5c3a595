/**
 * Options of the OpenAI-compatible client, their defaults, and the checks that turn a bad value
 * into an error naming the option, before any request is made.
 */
import { DEFAULT_JPEG_QUALITY, encodeJpeg } from "../jpeg.ts";
import { MllmError, type VideoFrame } from "../types.ts";
import { abortableSleep, DEFAULT_BACKOFF, type BackoffPolicy, type Sleep } from "./retry.ts";

/** Turns a frame into image bytes for the request (JPEG by default). */
export type ImageEncoder = (
  frame: VideoFrame,
  options: { readonly quality: number; readonly maxSide: number; readonly signal?: AbortSignal },
) => Promise<Uint8Array>;

export interface OpenAiClientOptions {
  /** The API root, including the version, e.g. "http://127.0.0.1:8000/v1"; requests go to `{baseUrl}/chat/completions`. */
  readonly baseUrl: string;
  /** The model name the server expects, e.g. "Qwen/Qwen2.5-VL-7B-Instruct" or "gpt-4o-mini". */
  readonly model: string;
  /** Sent as `Authorization: Bearer <apiKey>` when given. Local servers usually need none. */
  readonly apiKey?: string;
  /** Name for logs and reports. Default "openai:<model>". */
  readonly name?: string;
  /** Per attempt: how long to wait for the whole answer (for streams: for the headers, then between chunks). Default 60000. */
  readonly timeoutMs?: number;
  /** Extra attempts after the first for retryable failures. Default 3 (so at most 4 requests). */
  readonly retries?: number;
  /** Waits between attempts. Default { initialMs: 500, factor: 2, maxMs: 8000 }. */
  readonly backoff?: Partial<BackoffPolicy>;
  /** Source of jitter for the waits, in [0, 1). Default Math.random; tests pass a seeded one. */
  readonly random?: () => number;
  /** How to wait between attempts. Default: a timer that the caller's signal cancels. */
  readonly sleep?: Sleep;
  /** Calls in flight at once; further calls queue. Default 4. */
  readonly concurrency?: number;
  /** max_tokens when the request does not say. Default 256. */
  readonly maxTokens?: number;
  /** Sampling temperature. Default 0, so answers repeat. */
  readonly temperature?: number;
  /** JPEG quality as ffmpeg -q:v, 2 (best) to 31. Default 4. */
  readonly jpegQuality?: number;
  /** Frames are scaled down so that their longest side is at most this. Default 1280. */
  readonly maxImageSide?: number;
  /** ffmpeg used by the default image encoder. Required unless `imageEncoder` is given. */
  readonly ffmpegPath?: string;
  /** Replaces the default ffmpeg JPEG encoder. */
  readonly imageEncoder?: ImageEncoder;
  /** Default: the global fetch. */
  readonly fetch?: typeof fetch;
}

export interface ResolvedOptions {
  readonly endpoint: string;
  readonly model: string;
  readonly apiKey: string | undefined;
  readonly name: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  readonly sleep: Sleep;
  readonly concurrency: number;
  readonly maxTokens: number;
  readonly temperature: number;
  readonly jpegQuality: number;
  readonly maxImageSide: number;
  readonly imageEncoder: ImageEncoder;
  readonly fetch: typeof fetch;
}

function bad(field: string, rule: string, value: unknown): MllmError {
  const shown = typeof value === "string" ? JSON.stringify(value) : typeof value === "function" ? "a function" : String(value);
  return new MllmError("INVALID_INPUT", `OpenAiCompatibleClient option ${field} ${rule}, got ${shown}`);
}

function number(field: string, value: unknown, fallback: number, min: number, max: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const ok = typeof value === "number" && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) {
    const range = max === Infinity ? `at least ${min}` : `from ${min} to ${max}`;
    throw bad(field, `must be ${integer ? "a whole number" : "a number"} ${range}`, value);
  }
  return value;
}

function optionalFunction<T>(field: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== "function") throw bad(field, "must be a function", value);
  return value;
}

export function resolveOptions(o: OpenAiClientOptions): ResolvedOptions {
  let url: URL;
  try {
    url = new URL(o.baseUrl);
  } catch {
    throw bad("baseUrl", 'must be an http(s) URL such as "http://127.0.0.1:8000/v1"', o.baseUrl);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw bad("baseUrl", "must use http or https", o.baseUrl);
  if (typeof o.model !== "string" || o.model.trim() === "") throw bad("model", "must be a non-empty model name", o.model);
  if (o.apiKey !== undefined && (typeof o.apiKey !== "string" || o.apiKey === "")) {
    // An empty key is almost always an unset environment variable; say so rather than send "Bearer ".
    throw new MllmError("INVALID_INPUT", "OpenAiCompatibleClient option apiKey must be a non-empty string when given (leave it out for servers without keys)");
  }
  if (o.name !== undefined && (typeof o.name !== "string" || o.name === "")) throw bad("name", "must be a non-empty string", o.name);

  const initialMs = number("backoff.initialMs", o.backoff?.initialMs, DEFAULT_BACKOFF.initialMs, 0, Infinity, false);
  const factor = number("backoff.factor", o.backoff?.factor, DEFAULT_BACKOFF.factor, 1, Infinity, false);
  const maxMs = number("backoff.maxMs", o.backoff?.maxMs, Math.max(DEFAULT_BACKOFF.maxMs, initialMs), initialMs, Infinity, false);

  const ffmpegPath = o.ffmpegPath;
  if (ffmpegPath !== undefined && (typeof ffmpegPath !== "string" || ffmpegPath === "")) throw bad("ffmpegPath", "must be a path to ffmpeg", ffmpegPath);
  let imageEncoder = optionalFunction("imageEncoder", o.imageEncoder);
  if (!imageEncoder) {
    if (ffmpegPath === undefined) {
      throw new MllmError(
        "INVALID_INPUT",
        "OpenAiCompatibleClient needs option ffmpegPath (to encode frames as JPEG; see resolveFfmpeg) or option imageEncoder",
      );
    }
    imageEncoder = (frame, opts) => encodeJpeg(ffmpegPath, frame, opts);
  }

  return {
    endpoint: `${url.href.replace(/\/+$/, "")}/chat/completions`,
    model: o.model,
    apiKey: o.apiKey,
    name: o.name ?? `openai:${o.model}`,
    timeoutMs: number("timeoutMs", o.timeoutMs, 60_000, 1, 2_147_483_647, false),
    retries: number("retries", o.retries, 3, 0, 100, true),
    backoff: { initialMs, factor, maxMs },
    random: optionalFunction("random", o.random) ?? Math.random,
    sleep: optionalFunction("sleep", o.sleep) ?? abortableSleep,
    concurrency: number("concurrency", o.concurrency, 4, 1, 1024, true),
    maxTokens: number("maxTokens", o.maxTokens, 256, 1, 1_000_000, true),
    temperature: number("temperature", o.temperature, 0, 0, 2, false),
    jpegQuality: number("jpegQuality", o.jpegQuality, DEFAULT_JPEG_QUALITY, 2, 31, true),
    maxImageSide: number("maxImageSide", o.maxImageSide, 1280, 16, 16_384, true),
    imageEncoder,
    fetch: optionalFunction("fetch", o.fetch) ?? globalThis.fetch.bind(globalThis),
  };
}
