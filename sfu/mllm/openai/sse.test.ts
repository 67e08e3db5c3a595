import { describe, expect, it } from "vitest";
import { chunkText, SseDecoder, sseEvents } from "./sse.ts";

describe("SseDecoder", () => {
  it("with events split at awkward places, returns each event's data once complete", () => {
    const d = new SseDecoder();
    expect(d.push('data: {"a"')).toEqual([]);
    expect(d.push(':1}\n')).toEqual([]);
    expect(d.push("\ndata: [DONE]\r")).toEqual(['{"a":1}']);
    expect(d.push("\n\r\n")).toEqual(["[DONE]"]);
  });

  it("with comments, other fields and multi-line data, keeps only the data joined by newlines", () => {
    const d = new SseDecoder();
    expect(d.push(": keep-alive\n\nevent: message\nid: 7\ndata: one\ndata:two\n\n")).toEqual(["one\ntwo"]);
  });

  it("with a last event missing its blank line, returns it at the end", () => {
    const d = new SseDecoder();
    expect(d.push("data: [DONE]")).toEqual([]);
    expect(d.end()).toEqual(["[DONE]"]);
  });
});

describe("sseEvents", () => {
  it("with a byte stream cut inside a multi-byte character, decodes it whole", async () => {
    const bytes = new TextEncoder().encode("data: é\n\n");
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.subarray(0, 7)); // ends in the middle of "é"
        c.enqueue(bytes.subarray(7));
        c.close();
      },
    });
    const out: string[] = [];
    for await (const e of sseEvents(body)) out.push(e);
    expect(out).toEqual(["é"]);
  });
});

describe("chunkText", () => {
  it("with content, role-only and finish chunks, returns the content or empty text", () => {
    expect(chunkText('{"choices":[{"delta":{"content":"Hi"}}]}')).toBe("Hi");
    expect(chunkText('{"choices":[{"delta":{"role":"assistant"}}]}')).toBe("");
    expect(chunkText('{"choices":[{"delta":{},"finish_reason":"stop"}]}')).toBe("");
  });

  it("with an error object in the stream, raises HTTP_ERROR with its message", () => {
    expect(() => chunkText('{"error":{"message":"model crashed"}}')).toThrow(/model crashed/);
  });

  it("with data that is not JSON, raises BAD_RESPONSE", () => {
    expect(() => chunkText("hello")).toThrow(expect.objectContaining({ code: "BAD_RESPONSE" }));
  });
});
