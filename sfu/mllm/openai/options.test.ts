import { describe, expect, it } from "vitest";
import { resolveOptions } from "./options.ts";

const base = { baseUrl: "http://127.0.0.1:8000/v1/", model: "m", ffmpegPath: "/usr/bin/ffmpeg" };

describe("resolveOptions", () => {
  it("with only the required options, applies the documented defaults", () => {
    const o = resolveOptions(base);
    expect(o.endpoint).toBe("http://127.0.0.1:8000/v1/chat/completions");
    expect(o).toMatchObject({ name: "openai:m", timeoutMs: 60_000, retries: 3, concurrency: 4, maxTokens: 256, temperature: 0, jpegQuality: 4, maxImageSide: 1280 });
    expect(o.backoff).toEqual({ initialMs: 500, factor: 2, maxMs: 8000 });
  });

  it("with bad values, raises INVALID_INPUT naming the option", () => {
    expect(() => resolveOptions({ ...base, baseUrl: "127.0.0.1:8000" })).toThrow(/option baseUrl/);
    expect(() => resolveOptions({ ...base, baseUrl: "ftp://x/v1" })).toThrow(/option baseUrl must use http/);
    expect(() => resolveOptions({ ...base, model: " " })).toThrow(/option model/);
    expect(() => resolveOptions({ ...base, apiKey: "" })).toThrow(/option apiKey/);
    expect(() => resolveOptions({ ...base, retries: 1.5 })).toThrow(/option retries must be a whole number/);
    expect(() => resolveOptions({ ...base, timeoutMs: 0 })).toThrow(/option timeoutMs/);
    expect(() => resolveOptions({ ...base, concurrency: 0 })).toThrow(/option concurrency/);
    expect(() => resolveOptions({ ...base, jpegQuality: 40 })).toThrow(/option jpegQuality must be a whole number from 2 to 31, got 40/);
    expect(() => resolveOptions({ ...base, backoff: { factor: 0.5 } })).toThrow(/option backoff.factor/);
    expect(() => resolveOptions({ ...base, backoff: { initialMs: 100, maxMs: 50 } })).toThrow(/option backoff.maxMs/);
  });

  it("with neither ffmpegPath nor imageEncoder, says one is needed", () => {
    expect(() => resolveOptions({ baseUrl: base.baseUrl, model: "m" })).toThrow(/ffmpegPath.*or option imageEncoder/);
    expect(() => resolveOptions({ baseUrl: base.baseUrl, model: "m", imageEncoder: async () => new Uint8Array() })).not.toThrow();
  });
});
