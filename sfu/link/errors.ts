/**
 * The link emulator's one error class. Every bad trace, config or call becomes a `LinkError` whose
 * `field` names what was wrong (`"delayMs"`, `"loss.pGoodToBad"`, `"trace"`), so a CLI or a JSON
 * condition file can point the user at the exact flag or key.
 */
export type LinkErrorCode =
  /** A config value is out of range or of the wrong type. */
  | "INVALID_CONFIG"
  /** A trace file is empty, has a malformed line, goes backwards, or lasts 0 ms. */
  | "INVALID_TRACE"
  /** A call's argument is bad (negative packet size, a clock that went backwards). */
  | "INVALID_ARGUMENT";

export class LinkError extends Error {
  override readonly name = "LinkError";
  readonly code: LinkErrorCode;
  /** Dotted path of the offending field or argument. */
  readonly field: string;
  /** For trace errors: the 1-based line number in the trace file, when one line is to blame. */
  readonly line: number | undefined;

  constructor(code: LinkErrorCode, field: string, message: string, options?: { cause?: unknown; line?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = field;
    this.line = options?.line;
  }
}

/** Throws `INVALID_CONFIG` unless `value` is a finite number >= 0. */
export function requireNonNegative(field: string, value: number, unit: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new LinkError("INVALID_CONFIG", field, `${field} must be a finite number of ${unit} >= 0, got ${String(value)}`);
  }
}

/** Throws `INVALID_CONFIG` unless `value` is a finite number > 0. */
export function requirePositive(field: string, value: number, unit: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new LinkError("INVALID_CONFIG", field, `${field} must be a finite number of ${unit} > 0, got ${String(value)}`);
  }
}

/** Throws `INVALID_CONFIG` unless `value` is a probability in [0, 1]. */
export function requireProbability(field: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new LinkError("INVALID_CONFIG", field, `${field} must be a probability in [0, 1], got ${String(value)}`);
  }
}
