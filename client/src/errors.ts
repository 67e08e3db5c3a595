/**
 * Messages a person can act on, for the failures a call page meets: the camera refused or missing,
 * the server unreachable, the server saying no, a form field that will not do. Pure, so each
 * wording is unit-tested.
 */

/** What the form checks of a room or name field (a subset of the browser's ValidityState). */
export interface IdFieldValidity {
  readonly valueMissing: boolean;
  readonly patternMismatch: boolean;
  readonly tooLong: boolean;
}

/** The message for a room or name field that does not pass, naming the field; "" when it passes. */
export function idFieldMessage(label: string, v: IdFieldValidity, value: string): string {
  if (v.valueMissing) return `${label}: enter one, using letters, digits, dot, dash or underscore.`;
  if (v.tooLong || value.length > 64) return `${label}: at most 64 characters (this one has ${value.length}).`;
  if (v.patternMismatch) {
    const bad = [...new Set([...value].filter((c) => !/[A-Za-z0-9_.-]/.test(c)))].map((c) => (c === " " ? "spaces" : `"${c}"`));
    return `${label}: use only letters, digits, dot, dash or underscore${bad.length > 0 ? ` (not ${bad.join(", ")})` : ""}.`;
  }
  return "";
}

/** getUserMedia's DOMException names (Media Capture and Streams §10.2 and WebIDL). */
export function cameraErrorMessage(err: unknown): string {
  const name = err && typeof err === "object" && "name" in err ? String((err as { name: unknown }).name) : "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Camera access was refused. Allow this page to use the camera (the camera icon in the address bar), then press Join again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No camera was found. Connect a camera, then press Join again.";
    case "NotReadableError":
    case "AbortError":
      return "The camera is in use by another program or could not be started. Close the other program, then press Join again.";
    case "TypeError":
      return "This page cannot use the camera here: open it over https:// or on localhost.";
    default:
      return `The camera could not be started${name ? ` (${name})` : ""}.`;
  }
}

/** What went wrong talking to the server, in words; `what` says which step ("get a token"). */
export function serverErrorMessage(what: string, origin: string, err: unknown): string {
  const detail = err instanceof Error && err.message ? ` (${err.message})` : "";
  return `Cannot reach the call server at ${origin} to ${what}${detail}. Check that the server is running, then try again.`;
}

/** The server's own JSON error body: `{error: {code, message, field?}}`. */
export function describeHttpError(status: number, body: unknown): string {
  const e = body && typeof body === "object" && "error" in body ? (body as { error: unknown }).error : null;
  if (e && typeof e === "object" && "message" in e) {
    const { message, field } = e as { message: unknown; field?: unknown };
    return `The server refused (${status}): ${String(message)}${typeof field === "string" ? ` [${field}]` : ""}`;
  }
  return `The server answered ${status}.`;
}

/** Signalling error codes (sfu/protocol/messages.ts SERVER_ERROR_CODES) a person may meet at join. */
export function joinErrorMessage(code: string, message: string): string {
  switch (code) {
    case "ROOM_FULL":
      return "That room is full. Pick another room name.";
    case "IDENTITY_IN_USE":
      return "Someone in that room already uses this name. Pick another name.";
    case "TOKEN_EXPIRED":
      return "The join token expired. Press Join again.";
    default:
      return `The server refused to join: ${message} (${code}).`;
  }
}
