/** The per-connection state machine over an in-memory transport: no sockets, no clock. */
import { describe, expect, it } from "vitest";
import type { ServerMessage } from "../protocol/messages.ts";
import { RoomRegistry } from "./rooms.ts";
import { CLOSE_NORMAL, CLOSE_TOKEN_REFUSED, SignalingSession } from "./session.ts";
import { createToken, verifyToken } from "./tokens.ts";
import type { Logger, SignalingHandlers } from "./types.ts";

const SECRET = "k".repeat(32);
const NOW = 1_700_000_000_000;

function setup(handlers: Partial<SignalingHandlers> = {}, registry = new RoomRegistry({ reservedIdentities: ["assistant"] })) {
  const sent: ServerMessage[] = [];
  const closes: [number, string][] = [];
  const calls: string[] = [];
  const errors: object[] = [];
  let open = true;
  let n = 0;
  const record = (name: string) => (_peer: unknown, ...args: unknown[]) => void calls.push(`${name}(${args.map((a) => JSON.stringify(a)).join(",")})`);
  const logger: Logger = { info() {}, warn() {}, error: (_e, f) => void errors.push(f) };
  const session = new SignalingSession({
    transport: {
      get open() {
        return open;
      },
      send: (t) => void sent.push(JSON.parse(t) as ServerMessage),
      close: (code, reason) => {
        open = false;
        closes.push([code, reason]);
      },
    },
    registry,
    verifyToken: (t) => verifyToken(SECRET, t, NOW),
    handlers: {
      onJoin: record("onJoin"),
      onOffer: record("onOffer"),
      onAnswer: record("onAnswer"),
      onIce: record("onIce"),
      onChat: record("onChat"),
      onLeave: record("onLeave"),
      ...handlers,
    },
    logger,
    newId: () => `id${++n}`,
    aiIdentity: "assistant",
    iceServers: [],
    maxMessageBytes: 4096,
  });
  const send = (m: object) => session.receive(JSON.stringify(m));
  const join = (identity = "alice", room = "r1") => send({ type: "join", token: createToken(SECRET, { room, identity, ttlSec: 60 }, NOW), requestId: "j1" });
  return { session, sent, closes, calls, errors, send, join, registry };
}

describe("SignalingSession", () => {
  it("receive join, valid token, sends joined and calls onJoin", async () => {
    const s = setup();
    s.join();
    await s.session.idle();
    expect(s.sent).toEqual([{ type: "joined", room: "r1", identity: "alice", peerId: "id1", iceServers: [], aiPeer: { identity: "assistant" } }]);
    expect(s.session.state.kind).toBe("joined");
    expect(s.calls).toEqual(["onJoin()"]);
  });

  it("receive offer before join, NOT_JOINED and still awaiting join", () => {
    const s = setup();
    s.send({ type: "offer", sdp: "v=0" });
    expect(s.sent).toMatchObject([{ type: "error", code: "NOT_JOINED" }]);
    expect(s.session.state.kind).toBe("awaiting-join");
  });

  it("receive ping before join, pong echoing t", () => {
    const s = setup();
    s.send({ type: "ping", t: 42 });
    expect(s.sent).toEqual([{ type: "pong", t: 42 }]);
  });

  it("receive join, forged token, error with the token code then close 4001 and later frames ignored", () => {
    const s = setup();
    s.send({ type: "join", token: createToken("x".repeat(32), { room: "r1", identity: "a", ttlSec: 60 }, NOW), requestId: "j9" });
    expect(s.sent).toEqual([{ type: "error", code: "TOKEN_BAD_SIGNATURE", message: expect.any(String), field: "token", requestId: "j9" }]);
    expect(s.closes).toEqual([[CLOSE_TOKEN_REFUSED, "TOKEN_BAD_SIGNATURE"]]);
    s.send({ type: "ping", t: 1 });
    expect(s.sent).toHaveLength(1);
  });

  it("receive join, identity taken in the room, IDENTITY_IN_USE and the socket stays open for another join", () => {
    const registry = new RoomRegistry();
    registry.join("r1", { peerId: "other", identity: "alice" });
    const s = setup({}, registry);
    s.join("alice");
    expect(s.sent).toMatchObject([{ type: "error", code: "IDENTITY_IN_USE", requestId: "j1" }]);
    expect(s.closes).toEqual([]);
    s.join("alice2");
    expect(s.sent[1]).toMatchObject({ type: "joined", identity: "alice2" });
  });

  it("receive join, the AI peer's identity, IDENTITY_IN_USE", () => {
    const s = setup();
    s.join("assistant");
    expect(s.sent).toMatchObject([{ type: "error", code: "IDENTITY_IN_USE" }]);
  });

  it("receive join twice, ALREADY_JOINED", () => {
    const s = setup();
    s.join();
    s.join();
    expect(s.sent[1]).toMatchObject({ type: "error", code: "ALREADY_JOINED" });
  });

  it("receive offer then ice, async onOffer, onIce waits until onOffer resolved", async () => {
    let release!: () => void;
    const s = setup({
      onOffer: () => new Promise<void>((r) => (release = () => (s.calls.push("onOffer:done"), r()))),
    });
    s.join();
    s.send({ type: "offer", sdp: "v=0" });
    s.send({ type: "ice", candidate: null });
    await new Promise((r) => setImmediate(r));
    expect(s.calls).toEqual(["onJoin()"]);
    release();
    await s.session.idle();
    expect(s.calls).toEqual(["onJoin()", "onOffer:done", "onIce(null)"]);
  });

  it("receive chat, handler throws, error INTERNAL and the next chat still reaches onChat", async () => {
    let first = true;
    const got: string[] = [];
    const s = setup({
      onChat: (_p, text, id) => {
        if (first) {
          first = false;
          throw new Error("boom");
        }
        got.push(`${text}/${id}`);
      },
    });
    s.join();
    s.send({ type: "chat", text: "one" });
    s.send({ type: "chat", text: "two", id: "mine" });
    await s.session.idle();
    expect(s.sent.slice(1)).toMatchObject([{ type: "error", code: "INTERNAL" }]);
    expect(got).toEqual(["two/mine"]);
    expect(s.errors).toMatchObject([{ handler: "onChat", error: "boom", room: "r1" }]);
  });

  it("receive chat without id, onChat gets a server-assigned id", async () => {
    const s = setup();
    s.join();
    s.send({ type: "chat", text: "hi" });
    await s.session.idle();
    expect(s.calls).toContain('onChat("hi","id2")');
  });

  it("receive leave, sends left, closes 1000, onLeave once even when the socket close follows", async () => {
    const s = setup();
    s.join();
    s.send({ type: "leave" });
    s.session.end("disconnected");
    await s.session.idle();
    expect(s.sent.at(-1)).toEqual({ type: "left" });
    expect(s.closes).toEqual([[CLOSE_NORMAL, "left"]]);
    expect(s.calls.filter((c) => c.startsWith("onLeave"))).toEqual(['onLeave("left")']);
    expect(s.registry.participantCount).toBe(0);
  });

  it("end, before join, no onLeave", async () => {
    const s = setup();
    s.session.end("disconnected");
    await s.session.idle();
    expect(s.calls).toEqual([]);
  });

  it("receive invalid field, BAD_MESSAGE naming it and the state unchanged", () => {
    const s = setup();
    s.join();
    s.send({ type: "offer", sdp: 1 });
    expect(s.sent[1]).toMatchObject({ type: "error", code: "BAD_MESSAGE", field: "sdp" });
    expect(s.session.state.kind).toBe("joined");
  });
});
