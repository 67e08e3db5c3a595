/**
 * Typed errors of the signalling layer, thrown only for programming or configuration mistakes
 * (a weak secret, an invalid option). Problems caused by a remote client are never thrown: they
 * become `error` messages on that client's socket (see `sfu/protocol/messages.ts`).
 */
export type SignalingErrorCode = "WEAK_SECRET" | "INVALID_OPTION" | "INVALID_TOKEN_REQUEST";

export class SignalingError extends Error {
  override readonly name = "SignalingError";
  readonly code: SignalingErrorCode;

  constructor(code: SignalingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
