/** The call bench's one error type: a stable `code`, a message that says what to do, and `cause`. */
export type BenchErrorCode =
  /** A bad command-line flag; the message names it. */
  | "INVALID_OPTION"
  /** A phase did not reach its starting condition (no video at the server, a publisher that would not join). */
  | "PHASE_FAILED"
  /** The publisher worker process failed or answered out of protocol. */
  | "WORKER_FAILED"
  /** The whole run took longer than its time budget. */
  | "TIMEOUT"
  /** Processes outlived the run. */
  | "LEAK";

export class BenchError extends Error {
  override readonly name = "BenchError";
  constructor(readonly code: BenchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
