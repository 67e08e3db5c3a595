/**
 * Typed errors of the AI peer's receive path. Each carries a stable `code` and, when another error
 * caused it, that error as `cause`. The receive path never throws these at a packet: bad packets are
 * counted and logged; these errors are for bad options and for log records.
 */
export type MediaErrorCode =
  | "INVALID_OPTION"
  | "RTP_MALFORMED"
  | "UNEXPECTED_SSRC"
  | "UNEXPECTED_PAYLOAD_TYPE"
  | "DECODER_EXITED"
  | "DECODER_GAVE_UP";

export class MediaError extends Error {
  override readonly name = "MediaError";
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Structured log records: a message plus context fields with units in their names (`arrivalMs`). */
export type LogLevel = "debug" | "info" | "warn" | "error";
export interface LogRecord {
  readonly level: LogLevel;
  readonly msg: string;
  readonly [field: string]: unknown;
}
export type MediaLog = (record: LogRecord) => void;

/** Library code never prints: without a logger, records go nowhere. */
export const silentLog: MediaLog = () => {};

/** Calls a listener so that its exception cannot break the media path (mediasoup's safeEmit). */
export function safeCall<A extends unknown[]>(log: MediaLog, what: string, fn: ((...args: A) => void) | undefined, ...args: A): void {
  if (!fn) return;
  try {
    fn(...args);
  } catch (err) {
    log({ level: "error", msg: `${what} listener threw; media continues`, error: err });
  }
}
