/**
 * Typed errors of the encoder folder. Every error carries a stable `code` that callers can branch
 * on, a message that says what was wrong and what to do, and the underlying error as `cause`.
 */
export type EncoderErrorCode =
  | "FFMPEG_NOT_FOUND"
  | "FFMPEG_FAILED"
  | "INPUT_MISSING"
  | "INPUT_CORRUPT"
  | "INVALID_BITRATE"
  | "INVALID_SIZE"
  | "INVALID_OPTION"
  | "MAP_SIZE_MISMATCH"
  | "INVALID_MAP"
  | "RTP_MALFORMED";

export class EncoderError extends Error {
  override readonly name = "EncoderError";
  readonly code: EncoderErrorCode;

  constructor(code: EncoderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
