/** Shared by the link emulator's tests and its callers' (devibench/network). */
import { expect } from "vitest";
import { LinkError } from "./errors.ts";

/** Runs `fn`, expecting a LinkError, and returns it. */
export function linkError(fn: () => unknown): LinkError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LinkError);
    return err as LinkError;
  }
  throw new Error("expected a LinkError, nothing was thrown");
}
