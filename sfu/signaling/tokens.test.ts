import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SignalingError } from "./errors.ts";
import { createToken, verifyToken } from "./tokens.ts";

const SECRET = "s".repeat(32);
const T0 = 1_700_000_000_000; // ms; any fixed instant, the clock is a parameter
const req = { room: "lab-1", identity: "alice", ttlSec: 60 };

function b64(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj)).toString("base64url");
}
function sign(payload: string, secret = SECRET): string {
  return `${payload}.${createHmac("sha256", secret).update(payload).digest("base64url")}`;
}

describe("createToken / verifyToken", () => {
  it("verifyToken, fresh token, returns the claims with iat and exp in seconds", () => {
    const r = verifyToken(SECRET, createToken(SECRET, req, T0), T0);
    expect(r).toEqual({ ok: true, claims: { room: "lab-1", identity: "alice", iat: T0 / 1000, exp: T0 / 1000 + 60 } });
  });

  it("verifyToken, one second before expiry, still valid; at expiry, TOKEN_EXPIRED", () => {
    const token = createToken(SECRET, req, T0);
    expect(verifyToken(SECRET, token, T0 + 59_999).ok).toBe(true);
    expect(verifyToken(SECRET, token, T0 + 60_000)).toMatchObject({ ok: false, code: "TOKEN_EXPIRED" });
  });

  it("verifyToken, payload swapped for another room, TOKEN_BAD_SIGNATURE", () => {
    const [, sig] = createToken(SECRET, req, T0).split(".");
    const forged = `${b64({ room: "other", identity: "alice", iat: T0 / 1000, exp: T0 / 1000 + 60 })}.${sig}`;
    expect(verifyToken(SECRET, forged, T0)).toMatchObject({ ok: false, code: "TOKEN_BAD_SIGNATURE" });
  });

  it("verifyToken, one signature character changed, TOKEN_BAD_SIGNATURE", () => {
    const token = createToken(SECRET, req, T0);
    const i = token.length - 5;
    const tampered = token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
    expect(verifyToken(SECRET, tampered, T0)).toMatchObject({ ok: false, code: "TOKEN_BAD_SIGNATURE" });
  });

  it("verifyToken, signed with another secret, TOKEN_BAD_SIGNATURE", () => {
    const token = createToken("t".repeat(32), req, T0);
    expect(verifyToken(SECRET, token, T0)).toMatchObject({ ok: false, code: "TOKEN_BAD_SIGNATURE" });
  });

  it("verifyToken, truncated signature, TOKEN_BAD_SIGNATURE (length checked before the constant-time compare)", () => {
    const token = createToken(SECRET, req, T0);
    expect(verifyToken(SECRET, token.slice(0, -4), T0)).toMatchObject({ ok: false, code: "TOKEN_BAD_SIGNATURE" });
  });

  it.each(["", "abc", "a.b.c", "a.", ".b", "a b.c", "a+/=.b"])("verifyToken, structure %j, TOKEN_MALFORMED", (t) => {
    expect(verifyToken(SECRET, t, T0)).toMatchObject({ ok: false, code: "TOKEN_MALFORMED" });
  });

  it.each([
    ["not JSON", Buffer.from("nope").toString("base64url")],
    ["bad identity", b64({ room: "r", identity: "a b", iat: 1, exp: 2e9 })],
    ["exp missing", b64({ room: "r", identity: "a", iat: 1 })],
  ])("verifyToken, correctly signed but %s, TOKEN_MALFORMED", (_what, payload) => {
    expect(verifyToken(SECRET, sign(payload), T0)).toMatchObject({ ok: false, code: "TOKEN_MALFORMED" });
  });

  it.each([
    [{ ...req, room: "" }, "room"],
    [{ ...req, room: "x".repeat(65) }, "room"],
    [{ ...req, identity: "a/b" }, "identity"],
    [{ ...req, ttlSec: 0 }, "ttlSec"],
    [{ ...req, ttlSec: 1.5 }, "ttlSec"],
  ])("createToken, invalid request %j, throws INVALID_TOKEN_REQUEST naming %s", (bad, field) => {
    expect(() => createToken(SECRET, bad, T0)).toThrow(expect.objectContaining({ code: "INVALID_TOKEN_REQUEST", message: expect.stringContaining(field) }));
  });

  it("createToken and verifyToken, secret under 32 bytes, throw WEAK_SECRET", () => {
    expect(() => createToken("short", req, T0)).toThrow(SignalingError);
    expect(() => verifyToken("short", "a.b", T0)).toThrow(expect.objectContaining({ code: "WEAK_SECRET" }));
  });
});
