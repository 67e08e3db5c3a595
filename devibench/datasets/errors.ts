/**
 * Typed errors of the datasets folder. Every error carries a stable `code` that callers can branch
 * on and a message that says what was wrong and what to do; CSV errors also carry the 1-based line.
 */
export type DatasetErrorCode =
  | "CSV_UNTERMINATED_QUOTE"
  | "CSV_STRAY_QUOTE"
  | "CSV_TEXT_AFTER_QUOTE"
  | "DATASET_NOT_FOUND"
  | "DATASET_HEADER"
  | "VIDEOS_DIR_NOT_FOUND"
  | "INVALID_OPTION";

export class DatasetError extends Error {
  override readonly name = "DatasetError";
  readonly code: DatasetErrorCode;
  /** 1-based line in the CSV file, when the error is about one place in it. */
  readonly line: number | undefined;

  constructor(code: DatasetErrorCode, message: string, options?: { cause?: unknown; line?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.line = options?.line;
  }
}
