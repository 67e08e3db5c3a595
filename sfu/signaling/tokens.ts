/**
 * Room tokens: `base64url(payload) "." base64url(HMAC-SHA256(secret, base64url(payload)))`, the
 * payload being JSON `{room, identity, iat, exp}` (seconds since the epoch). HMAC per RFC 2104 with
 * SHA-256; base64url per RFC 4648 §5, without padding. The MAC covers the encoded payload string, so
 * verification never re-encodes anything it did not sign.
 *
 * The clock is a parameter (`nowMs`): no function here reads the time.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { identifierSchema } from "../protocol/messages.ts";
import { SignalingError } from "./errors.ts";

export type TokenErrorCode = "TOKEN_MALFORMED" | "TOKEN_BAD_SIGNATURE" | "TOKEN_EXPIRED";

export interface TokenClaims {
  readonly room: string;
  readonly identity: string;
  /** Issued at, seconds since the epoch. */
  readonly iat: number;
  /** Expires at, seconds since the epoch: the token is refused from this second on. */
  readonly exp: number;
}

export type TokenResult =
  | { readonly ok: true; readonly claims: TokenClaims }
  | { readonly ok: false; readonly code: TokenErrorCode; readonly message: string };

export interface TokenRequest {
  readonly room: string;
  readonly identity: string;
  readonly ttlSec: number;
}

/** RFC 2104 §3: keys shorter than the hash output (32 bytes for SHA-256) weaken the MAC. */
export const MIN_SECRET_BYTES = 32;
/** A token outlives no call by much; a day bounds the damage of a leaked one. */
export const MAX_TOKEN_TTL_SEC = 24 * 3600;

const SIG_BYTES = 32;
const B64URL = /^[A-Za-z0-9_-]+$/;
const claimsSchema = z.object({
  room: identifierSchema,
  identity: identifierSchema,
  iat: z.number().int().min(0),
  exp: z.number().int().min(0),
});

export type TokenSecret = string | Uint8Array;

/** Signs a token for `identity` in `room`, valid for `ttlSec` seconds from `nowMs`. */
export function createToken(secret: TokenSecret, req: TokenRequest, nowMs: number): string {
  const key = checkSecret(secret);
  if (!identifierSchema.safeParse(req.room).success) throw invalid("room", req.room);
  if (!identifierSchema.safeParse(req.identity).success) throw invalid("identity", req.identity);
  if (!Number.isInteger(req.ttlSec) || req.ttlSec < 1 || req.ttlSec > MAX_TOKEN_TTL_SEC) {
    throw new SignalingError("INVALID_TOKEN_REQUEST", `ttlSec must be an integer in 1..${MAX_TOKEN_TTL_SEC}, got ${req.ttlSec}`);
  }
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new SignalingError("INVALID_TOKEN_REQUEST", `nowMs must be a time, got ${nowMs}`);
  const iat = Math.floor(nowMs / 1000);
  const claims: TokenClaims = { room: req.room, identity: req.identity, iat, exp: iat + req.ttlSec };
  const payload = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
  return `${payload}.${mac(key, payload).toString("base64url")}`;
}

/** Checks structure, then the MAC (constant time), then the claims and the expiry against `nowMs`. */
export function verifyToken(secret: TokenSecret, token: string, nowMs: number): TokenResult {
  const key = checkSecret(secret);
  const parts = token.split(".");
  if (parts.length !== 2 || !B64URL.test(parts[0]!) || !B64URL.test(parts[1]!)) {
    return fail("TOKEN_MALFORMED", "token must be two base64url parts joined by a dot");
  }
  const [payload, sigText] = parts as [string, string];
  const sig = Buffer.from(sigText, "base64url");
  const expected = mac(key, payload);
  // timingSafeEqual needs equal lengths; the length of a MAC is public, so checking it first leaks nothing.
  if (sig.length !== SIG_BYTES || !timingSafeEqual(sig, expected)) {
    return fail("TOKEN_BAD_SIGNATURE", "token signature does not match; get a new token from this server");
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return fail("TOKEN_MALFORMED", "token payload is not JSON");
  }
  const parsed = claimsSchema.safeParse(json);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join(".") ?? "";
    return fail("TOKEN_MALFORMED", `token payload field "${field}" is invalid`);
  }
  const claims = parsed.data;
  if (Math.floor(nowMs / 1000) >= claims.exp) {
    return fail("TOKEN_EXPIRED", `token expired at ${new Date(claims.exp * 1000).toISOString()}; get a new token`);
  }
  return { ok: true, claims };
}

function mac(key: Uint8Array, payload: string): Buffer {
  return createHmac("sha256", key).update(payload, "utf8").digest();
}

function checkSecret(secret: TokenSecret): Uint8Array {
  const key = typeof secret === "string" ? Buffer.from(secret, "utf8") : secret;
  if (key.byteLength < MIN_SECRET_BYTES) {
    throw new SignalingError("WEAK_SECRET", `token secret must be at least ${MIN_SECRET_BYTES} bytes (RFC 2104 §3), got ${key.byteLength}`);
  }
  return key;
}

function invalid(field: string, value: string): SignalingError {
  return new SignalingError("INVALID_TOKEN_REQUEST", `${field} must be 1..64 characters of [A-Za-z0-9_.-], got ${JSON.stringify(value)}`);
}

function fail(code: TokenErrorCode, message: string): TokenResult {
  return { ok: false, code, message };
}
