/**
 * Server-sent events as OpenAI-compatible servers send a streamed chat completion:
 * `data: {json}` events separated by blank lines, ended by `data: [DONE]`.
 */
import { MllmError } from "../types.ts";

/** Splits text, pushed in arbitrary pieces, into the data of each event. */
export class SseDecoder {
  private buffer = "";
  private data: string[] = [];

  /** Feeds more text; returns the events it completed. */
  push(text: string): string[] {
    this.buffer += text;
    const events: string[] = [];
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    for (let m = lineEnd.exec(this.buffer); m; m = lineEnd.exec(this.buffer)) {
      // A lone \r at the end may be the first half of \r\n split across pieces: wait for the rest.
      if (m[0] === "\r" && m.index === this.buffer.length - 1) break;
      this.line(this.buffer.slice(start, m.index), events);
      start = m.index + m[0].length;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** The stream ended: returns the last event even if its closing blank line never came. */
  end(): string[] {
    const events: string[] = [];
    if (this.buffer !== "") this.line(this.buffer.replace(/\r$/, ""), events);
    this.buffer = "";
    this.line("", events);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === "") {
      if (this.data.length > 0) events.push(this.data.join("\n"));
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return; // a comment, used by some servers as a keep-alive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== "data") return; // event, id and retry mean nothing for chat completions
    const value = colon < 0 ? "" : line.slice(colon + 1);
    this.data.push(value.startsWith(" ") ? value.slice(1) : value);
  }
}

/** Reads a response body and yields the data of each event as it arrives. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new SseDecoder();
  const text = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* decoder.push(text.decode(value, { stream: true }));
    }
    yield* decoder.push(text.decode());
    yield* decoder.end();
  } finally {
    // Stops the download when the consumer leaves early (break, error, cancel).
    await reader.cancel().catch(() => undefined);
  }
}

export const DONE = "[DONE]";

/**
 * The text a stream chunk adds: `choices[0].delta.content`, or "" for chunks without text (the
 * role-only first chunk, the finish chunk). An `error` object in the stream becomes HTTP_ERROR.
 */
export function chunkText(data: string): string {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new MllmError("BAD_RESPONSE", `a streamed event is not JSON: ${truncate(data, 200)}`);
  }
  if (typeof json !== "object" || json === null) throw new MllmError("BAD_RESPONSE", `a streamed event is not an object: ${truncate(data, 200)}`);
  const obj = json as { error?: unknown; choices?: unknown };
  if (obj.error !== undefined) throw new MllmError("HTTP_ERROR", `the server reported an error mid-stream: ${truncate(errorText(obj.error), 300)}`);
  if (!Array.isArray(obj.choices)) throw new MllmError("BAD_RESPONSE", `a streamed event has no choices: ${truncate(data, 200)}`);
  const delta = (obj.choices[0] as { delta?: { content?: unknown } } | undefined)?.delta;
  return typeof delta?.content === "string" ? delta.content : "";
}

/** The human part of an OpenAI-style error value ({message} or a string). */
export function errorText(error: unknown): string {
  if (typeof error === "string") return error;
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  return JSON.stringify(error);
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
