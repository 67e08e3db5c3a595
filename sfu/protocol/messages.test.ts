import { describe, expect, it } from "vitest";
import { parseClientMessage, parseServerMessage, type ClientMessage, type ServerMessage } from "./messages.ts";

const LIMIT = 64 * 1024;
const CANDIDATE = { candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", sdpMid: "0", sdpMLineIndex: 0 };

const clientSamples: ClientMessage[] = [
  { type: "join", token: "abc.def" },
  { type: "join", token: "abc.def", requestId: "r1" },
  { type: "offer", sdp: "v=0\r\n" },
  { type: "answer", sdp: "v=0\r\n" },
  { type: "ice", candidate: CANDIDATE },
  { type: "ice", candidate: { candidate: "", sdpMid: null, sdpMLineIndex: null } },
  { type: "ice", candidate: null },
  { type: "chat", text: "what does the sign say?" },
  { type: "chat", text: "x".repeat(4000), id: "q1" },
  { type: "leave" },
  { type: "ping", t: 12.5 },
];

const serverSamples: ServerMessage[] = [
  { type: "joined", room: "r", identity: "alice", peerId: "p1", iceServers: [], aiPeer: { identity: "assistant" } },
  { type: "joined", room: "r", identity: "a", peerId: "p", iceServers: [{ urls: ["stun:x"], username: "u", credential: "c" }], aiPeer: { identity: "ai" } },
  { type: "offer", sdp: "v=0\r\n" },
  { type: "answer", sdp: "v=0\r\n" },
  { type: "ice", candidate: CANDIDATE },
  { type: "chat", from: "assistant", text: "It says EXIT", id: "q1", final: false },
  { type: "chat", from: "assistant", text: "", id: "q1", final: true },
  { type: "error", code: "BAD_MESSAGE", message: "m", field: "sdp", requestId: "r1" },
  { type: "left" },
  { type: "pong", t: 3 },
];

describe("parseClientMessage", () => {
  it.each(clientSamples.map((m) => [m.type, m] as const))("parseClientMessage, valid %s, round-trips unchanged", (_t, msg) => {
    const text = JSON.stringify(msg);
    expect(parseClientMessage(text, LIMIT)).toEqual({ ok: true, msg });
    expect(parseClientMessage(new TextEncoder().encode(text), LIMIT)).toEqual({ ok: true, msg });
  });

  it.each([
    ['{"type":"offer","sdp":42}', "sdp", 'field "sdp": expected string, got number'],
    ['{"type":"offer"}', "sdp", 'field "sdp": required (expected string)'],
    ['{"type":"offer","sdp":""}', "sdp", "at least 1 characters"],
    ['{"type":"join"}', "token", 'field "token": required'],
    ['{"type":"chat","text":""}', "text", "at least 1 characters"],
    [JSON.stringify({ type: "chat", text: "x".repeat(4001) }), "text", "at most 4000 characters"],
    ['{"type":"ice","candidate":{"candidate":"c","sdpMLineIndex":-1}}', "candidate.sdpMLineIndex", ">= 0"],
    ['{"type":"ice","candidate":{"candidate":"c","sdpMLineIndex":0.5}}', "candidate.sdpMLineIndex", "expected int"],
    ['{"type":"ice"}', "candidate", "required"],
    ['{"type":"ping","t":"now"}', "t", "expected number, got string"],
    ['{"type":"teleport"}', "type", 'unknown message type "teleport"'],
    ['{"type":7}', "type", "expected string, got number"],
    ['{"sdp":"x"}', "type", 'field "type": required'],
  ])("parseClientMessage, %s, BAD_MESSAGE naming the field", (raw, field, text) => {
    const r = parseClientMessage(raw, LIMIT);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe("BAD_MESSAGE");
    expect(r.error.field).toBe(field);
    expect(r.error.message).toContain(text);
    expect(r.error.message).toContain(`"${field}"`);
  });

  it.each(["[1,2]", "42", "null", '"join"'])("parseClientMessage, JSON %s that is no object, BAD_MESSAGE without field", (raw) => {
    const r = parseClientMessage(raw, LIMIT);
    expect(r).toMatchObject({ ok: false, error: { code: "BAD_MESSAGE", message: expect.stringContaining("JSON object") } });
    expect(!r.ok && r.error.field).toBeUndefined();
  });

  it.each(["{", "", "{'type':'leave'}", '{"type":"leave"} trailing'])("parseClientMessage, invalid JSON %j, BAD_JSON", (raw) => {
    expect(parseClientMessage(raw, LIMIT)).toMatchObject({ ok: false, error: { code: "BAD_JSON" } });
  });

  it("parseClientMessage, bytes that are not UTF-8, BAD_JSON saying so", () => {
    const r = parseClientMessage(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), LIMIT);
    expect(r).toMatchObject({ ok: false, error: { code: "BAD_JSON", message: expect.stringContaining("UTF-8") } });
  });

  it("parseClientMessage, one byte over the limit, TOO_LARGE before any JSON parsing", () => {
    const exact = JSON.stringify({ type: "offer", sdp: "" }).length;
    const msg = JSON.stringify({ type: "offer", sdp: "a".repeat(100 - exact) });
    expect(msg.length).toBe(100);
    expect(parseClientMessage(msg, 100).ok).toBe(true);
    expect(parseClientMessage(msg, 99)).toMatchObject({ ok: false, error: { code: "TOO_LARGE" } });
    // Not JSON at all, yet the size is what is reported: the check comes first.
    expect(parseClientMessage("{".repeat(200), 100)).toMatchObject({ ok: false, error: { code: "TOO_LARGE" } });
    expect(parseClientMessage(new Uint8Array(101), 100)).toMatchObject({ ok: false, error: { code: "TOO_LARGE" } });
  });

  it("parseClientMessage, few characters but many UTF-8 bytes, TOO_LARGE by bytes", () => {
    const msg = JSON.stringify({ type: "chat", text: "€".repeat(40) }); // 3 bytes per €
    expect(msg.length).toBeLessThan(100);
    expect(new TextEncoder().encode(msg).byteLength).toBeGreaterThan(100);
    expect(parseClientMessage(msg, 100)).toMatchObject({ ok: false, error: { code: "TOO_LARGE" } });
    expect(parseClientMessage(msg, 200).ok).toBe(true);
  });

  it("parseClientMessage, extra unknown fields, accepted and stripped", () => {
    expect(parseClientMessage('{"type":"leave","future":1}', LIMIT)).toEqual({ ok: true, msg: { type: "leave" } });
  });
});

describe("parseServerMessage", () => {
  it.each(serverSamples.map((m) => [m.type, m] as const))("parseServerMessage, valid %s, round-trips unchanged", (_t, msg) => {
    expect(parseServerMessage(JSON.stringify(msg))).toEqual({ ok: true, msg });
  });

  it.each([
    ['{"type":"error","code":"NOPE","message":"m"}', "code"],
    ['{"type":"chat","from":"a","text":"t","id":"1"}', "final"],
    ['{"type":"joined","room":"bad room","identity":"a","peerId":"p","iceServers":[],"aiPeer":{"identity":"ai"}}', "room"],
    ['{"type":"joined","room":"r","identity":"a","peerId":"p","iceServers":[],"aiPeer":{}}', "aiPeer.identity"],
  ])("parseServerMessage, %s, BAD_MESSAGE naming %s", (raw, field) => {
    expect(parseServerMessage(raw)).toMatchObject({ ok: false, error: { code: "BAD_MESSAGE", field } });
  });
});
