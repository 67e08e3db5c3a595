/**
 * The pieces of the retry policy that do not touch the network: backoff delays, Retry-After,
 * an abortable sleep, and a small semaphore that makes calls wait their turn.
 */
import { MllmError } from "../types.ts";

export interface BackoffPolicy {
  /** Delay before the first retry, before jitter. */
  readonly initialMs: number;
  /** Each further retry waits this many times longer. */
  readonly factor: number;
  /** No wait is longer than this (Retry-After included). */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, factor: 2, maxMs: 8000 };

/**
 * Wait before retry number `retry` (0 for the first retry): the exponential step, capped, times a
 * jitter factor in [0.5, 1). Half the step is kept so that waits still grow from one retry to the
 * next, and the other half is random so that many clients failing together do not retry together.
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number): number {
  const step = Math.min(policy.maxMs, policy.initialMs * policy.factor ** retry);
  return Math.round(step * (0.5 + 0.5 * random()));
}

/**
 * A Retry-After header as milliseconds to wait, capped at maxMs: either whole seconds or an HTTP
 * date. Null when the header is absent or unreadable (the normal backoff applies then).
 */
export function parseRetryAfter(header: string | null, maxMs: number, nowMs: number): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(maxMs, Math.round(Number(text) * 1000));
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(maxMs, Math.max(0, at - nowMs));
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

function cancelled(signal: AbortSignal): MllmError {
  return new MllmError("CANCELLED", "the call was cancelled by the caller", { cause: signal.reason });
}

/** setTimeout as a promise that rejects with CANCELLED when the signal aborts. */
export const abortableSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelled(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** At most `limit` holders at a time; the others wait in order of arrival. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** Resolves with a release function once a slot is free; rejects with CANCELLED if the signal aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener("abort", onAbort);
        this.active++;
        resolve(this.releaser());
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(cancelled(signal!));
      };
      this.waiting.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      // Releasing twice would let one more caller in than the limit allows.
      if (done) return;
      done = true;
      this.active--;
      this.waiting.shift()?.();
    };
  }
}
