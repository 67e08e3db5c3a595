/**
 * Typed errors of the headless publisher. Every error has a stable `code`, a message that says what
 * to do, `retryable` (would the same call succeed later, e.g. a server that is still starting), and
 * the underlying error as `cause`.
 */
export type PublisherErrorCode =
  /** A bad option or CLI flag; the message names it. */
  | "INVALID_OPTION"
  /** The encoder or decoder process failed (the message holds the end of ffmpeg's log). */
  | "ENCODER_FAILED"
  /** The encoder's output could not be framed (corrupt stream). */
  | "STREAM_MALFORMED"
  /** The signalling socket could not be opened or closed unexpectedly. */
  | "SIGNALING_FAILED"
  /** The server refused the join (bad or expired token, room full, identity in use). */
  | "JOIN_REFUSED"
  /** `POST /api/token` failed. */
  | "TOKEN_FETCH_FAILED"
  /** Offer/answer or ICE did not complete in time. */
  | "NEGOTIATION_FAILED"
  /** The server answered our offer with an error (e.g. a server that cannot parse an m-section of it). */
  | "OFFER_REFUSED"
  /** The data channel is not open (yet, or any more). */
  | "NOT_CONNECTED"
  /** The server does not have what was asked for (an answer frame it no longer keeps). */
  | "NOT_FOUND"
  /** The server did not reply in time. */
  | "TIMEOUT"
  /** The object was closed. */
  | "CLOSED";

export class PublisherError extends Error {
  override readonly name = "PublisherError";
  readonly code: PublisherErrorCode;
  readonly retryable: boolean;

  constructor(code: PublisherErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}
