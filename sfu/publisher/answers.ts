/**
 * Streamed answers: each question gets an async iterator of its answer's chunks, fed as
 * `answer-chunk` (data channel) or `chat` (signalling) messages arrive with its id, and done after
 * the chunk marked `final`. Pure: no Node imports, no timers.
 */
import { PublisherError } from "./errors.ts";

interface Stream {
  readonly chunks: string[];
  done: boolean;
  error: Error | null;
  wake: (() => void) | null;
}

export class AnswerStreams {
  private readonly streams = new Map<string, Stream>();

  /** Registers question `id` and returns the chunks of its answer as they come. */
  open(id: string, signal?: AbortSignal): AsyncIterableIterator<string> {
    const s: Stream = { chunks: [], done: false, error: null, wake: null };
    this.streams.set(id, s);
    const onAbort = () => this.fail(id, new PublisherError("CLOSED", `question ${id} was abandoned`, { cause: signal?.reason }));
    signal?.addEventListener("abort", onAbort, { once: true });
    const finish = () => {
      signal?.removeEventListener("abort", onAbort);
      this.streams.delete(id);
    };
    const iterator: AsyncIterableIterator<string> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        for (;;) {
          if (s.chunks.length > 0) return { value: s.chunks.shift()!, done: false };
          if (s.error) {
            finish();
            throw s.error;
          }
          if (s.done) {
            finish();
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => (s.wake = resolve));
        }
      },
      return: async () => {
        finish();
        return { value: undefined, done: true };
      },
    };
    if (signal?.aborted) onAbort();
    return iterator;
  }

  /** A chunk of the answer to `id`; false when no question with that id is waiting. */
  push(id: string, text: string, final: boolean): boolean {
    const s = this.streams.get(id);
    if (!s || s.done) return false;
    if (text.length > 0) s.chunks.push(text);
    if (final) s.done = true;
    this.wakeUp(s);
    return true;
  }

  /** Ends one waiting answer (or all, when `id` is null) with an error. */
  fail(id: string | null, error: Error): void {
    const targets = id === null ? [...this.streams.values()] : [this.streams.get(id)].filter((s): s is Stream => s !== undefined);
    for (const s of targets) {
      s.error ??= error;
      this.wakeUp(s);
    }
  }

  get waiting(): number {
    return this.streams.size;
  }

  private wakeUp(s: Stream): void {
    const w = s.wake;
    s.wake = null;
    w?.();
  }
}
