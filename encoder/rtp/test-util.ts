/** Helpers shared by the rtp tests: a seeded PRNG (no Math.random, runs repeat exactly) and byte checks. */
import { expect } from "vitest";
import { EncoderError, type EncoderErrorCode } from "../errors.ts";

export { mulberry32 } from "../synth/prng.ts";

export function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/**
 * Byte-for-byte equality. Faster than toEqual on 100 kB arrays, and on failure it names the first
 * differing offset instead of printing both arrays.
 */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length, "length").toBe(expected.length);
  let firstDiff = -1;
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      firstDiff = i;
      break;
    }
  }
  expect(firstDiff, "first differing byte offset").toBe(-1);
}

/** Runs fn and checks it throws EncoderError with the code and a message matching `message`. */
export function expectEncoderError(fn: () => unknown, code: EncoderErrorCode, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(EncoderError);
  expect((caught as EncoderError).code).toBe(code);
  expect((caught as EncoderError).message).toMatch(message);
}
