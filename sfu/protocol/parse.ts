/**
 * The edge parser shared by the signalling socket and the data channel: size check, then UTF-8 and
 * JSON, then dispatch on `type` to one zod schema, with an error that names the field.
 *
 * Pure: no Node imports, because the browser client parses server messages with the same code.
 */
import type { z } from "zod";

export type ParseErrorCode = "TOO_LARGE" | "BAD_JSON" | "BAD_MESSAGE";

export interface ParseError {
  readonly code: ParseErrorCode;
  /** Says what was wrong, naming the field, e.g. `field "sdp": expected string, got number`. */
  readonly message: string;
  /** Dotted path of the offending field (`"candidate.sdpMLineIndex"`), absent for whole-message errors. */
  readonly field?: string;
}

export type ParseResult<T> = { readonly ok: true; readonly msg: T } | { readonly ok: false; readonly error: ParseError };

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/**
 * UTF-8 size of a message, checked before any decoding work. A UTF-16 code unit takes 1..3 UTF-8
 * bytes (a surrogate pair, 2 units, takes 4), so `length` bounds the byte count from below and
 * `3 * length` from above: only strings between the bounds are encoded to count exactly.
 */
export function exceedsBytes(raw: string | Uint8Array, maxBytes: number): boolean {
  if (typeof raw !== "string") return raw.byteLength > maxBytes;
  if (raw.length > maxBytes) return true;
  if (raw.length * 3 <= maxBytes) return false;
  return utf8.encode(raw).byteLength > maxBytes;
}

/** Size check, UTF-8 decoding and JSON.parse, in that order, so an oversized frame costs nothing. */
export function decodeJson(raw: string | Uint8Array, maxBytes: number): ParseResult<unknown> {
  if (exceedsBytes(raw, maxBytes)) {
    return fail("TOO_LARGE", `message is larger than the limit of ${maxBytes} bytes; split it or send less`);
  }
  let text: string;
  try {
    text = typeof raw === "string" ? raw : utf8Strict.decode(raw);
  } catch {
    return fail("BAD_JSON", "message is not valid UTF-8");
  }
  try {
    return { ok: true, msg: JSON.parse(text) as unknown };
  } catch (err) {
    return fail("BAD_JSON", `message is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Parses `raw` as JSON and checks it against one schema (e.g. an HTTP request body). */
export function parseJson<T>(schema: z.ZodType<T>, raw: string | Uint8Array, maxBytes: number): ParseResult<T> {
  const decoded = decodeJson(raw, maxBytes);
  return decoded.ok ? checkSchema(schema, decoded.msg) : decoded;
}

/** Parses `raw` as one JSON message whose `type` selects a schema in `schemas`. */
export function parseTyped<M extends { type: string }>(
  schemas: Readonly<Record<M["type"], z.ZodType<M>>>,
  raw: string | Uint8Array,
  maxBytes: number,
): ParseResult<M> {
  const decoded = decodeJson(raw, maxBytes);
  if (!decoded.ok) return decoded;
  const value = decoded.msg;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("BAD_MESSAGE", `message must be a JSON object with a string "type", got ${describe(value)}`);
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== "string") {
    return fail("BAD_MESSAGE", `field "type": ${type === undefined ? "required (expected string)" : `expected string, got ${describe(type)}`}`, "type");
  }
  if (!Object.hasOwn(schemas, type)) {
    const known = Object.keys(schemas).join(", ");
    return fail("BAD_MESSAGE", `field "type": unknown message type ${JSON.stringify(type)} (expected one of ${known})`, "type");
  }
  return checkSchema(schemas[type as M["type"]], value);
}

/** Runs one schema; the first issue becomes the error, naming its field. */
export function checkSchema<T>(schema: z.ZodType<T>, value: unknown): ParseResult<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, msg: result.data };
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join(".");
  const detail = describeIssue(issue, valueAt(value, issue.path));
  return fail("BAD_MESSAGE", field ? `field "${field}": ${detail}` : detail, field || undefined);
}

function fail(code: ParseErrorCode, message: string, field?: string): { ok: false; error: ParseError } {
  return { ok: false, error: field === undefined ? { code, message } : { code, message, field } };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && !Number.isInteger(v)) return `number ${v}`;
  return typeof v;
}

/** One zod issue in words a client developer can act on. */
function describeIssue(issue: z.core.$ZodIssue, actual: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      return actual === undefined ? `required (expected ${issue.expected})` : `expected ${issue.expected}, got ${describe(actual)}`;
    case "too_small":
      return issue.origin === "string"
        ? `must be at least ${issue.minimum} characters`
        : issue.origin === "array"
          ? `must have at least ${issue.minimum} items`
          : `must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return issue.origin === "string"
        ? `must be at most ${issue.maximum} characters`
        : issue.origin === "array"
          ? `must have at most ${issue.maximum} items`
          : `must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "invalid_format":
      return issue.format === "regex" ? `must match ${issue.pattern ?? "the expected pattern"}` : `must be a valid ${issue.format}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((x) => JSON.stringify(x)).join(", ")}`;
    default:
      return issue.message;
  }
}
