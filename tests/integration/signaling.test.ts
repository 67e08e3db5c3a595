/**
 * The signalling server over real HTTP and real WebSockets on 127.0.0.1 (port 0), with `ws` as the
 * client. Every server frame is checked against the protocol schema. Waits are for events; the
 * guard timeouts only turn a hang into a readable failure.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { parseServerMessage, type ServerMessage } from "../../sfu/protocol/messages.ts";
import { SignalingServer, type SignalingServerOptions } from "../../sfu/signaling/server.ts";
import { createToken } from "../../sfu/signaling/tokens.ts";
import type { LeaveReason, Logger, PeerHandle, SignalingHandlers } from "../../sfu/signaling/types.ts";

const SECRET = "integration-test-secret-0123456789abcdef";
const GUARD_MS = 10_000;

type Event = { name: keyof SignalingHandlers; identity: string; args: unknown[] };

/** Records handler calls; tests await the ones they expect. */
class Recorder {
  readonly events: Event[] = [];
  private waiters: { pred: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  readonly logged: { level: string; event: string; fields: object }[] = [];
  readonly logger: Logger = {
    info: (event, fields) => void this.logged.push({ level: "info", event, fields }),
    warn: (event, fields) => void this.logged.push({ level: "warn", event, fields }),
    error: (event, fields) => void this.logged.push({ level: "error", event, fields }),
  };
  overrides: Partial<SignalingHandlers> = {};
  readonly handlers: SignalingHandlers = {
    onJoin: (p) => this.record("onJoin", p, []),
    onOffer: (p, sdp) => this.record("onOffer", p, [sdp]),
    onAnswer: (p, sdp) => this.record("onAnswer", p, [sdp]),
    onIce: (p, c) => this.record("onIce", p, [c]),
    onChat: (p, text, id) => this.record("onChat", p, [text, id]),
    onLeave: (p, reason: LeaveReason) => this.record("onLeave", p, [reason]),
  };

  private record(name: keyof SignalingHandlers, peer: PeerHandle, args: unknown[]): void | Promise<void> {
    const e = { name, identity: peer.identity, args };
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
    const override = this.overrides[name] as ((...a: unknown[]) => void | Promise<void>) | undefined;
    return override?.(peer, ...args);
  }

  wait(name: keyof SignalingHandlers, identity: string, match: (e: Event) => boolean = () => true): Promise<Event> {
    const pred = (e: Event) => e.name === name && e.identity === identity && match(e);
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return guard(new Promise((resolve) => this.waiters.push({ pred, resolve })), `${name} for ${identity}`);
  }
}

/** A ws client that queues schema-checked server messages. */
class Client {
  private inbox: ServerMessage[] = [];
  private wake: (() => void) | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;
  pings = 0;
  private onPing: (() => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const parsed = parseServerMessage(data.toString("utf8"));
      if (!parsed.ok) throw new Error(`server sent an invalid message: ${parsed.error.message}`);
      this.inbox.push(parsed.msg);
      this.wake?.();
    });
    ws.on("ping", () => {
      this.pings++;
      this.onPing?.();
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(url: string, options: { autoPong?: boolean } = {}): Promise<Client> {
    const ws = new WebSocket(url, options);
    return guard(
      new Promise((resolve, reject) => {
        ws.once("open", () => resolve(new Client(ws)));
        ws.once("error", reject);
      }),
      `connect ${url}`,
    );
  }

  send(msg: object | string): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  async waitPings(n: number): Promise<void> {
    while (this.pings < n) await guard(new Promise<void>((r) => (this.onPing = r)), `ping ${n}`);
  }

  async next(): Promise<ServerMessage> {
    while (this.inbox.length === 0) await guard(new Promise<void>((r) => (this.wake = r)), "next server message");
    return this.inbox.shift()!;
  }
}

function guard<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), GUARD_MS)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const servers: SignalingServer[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(over: Partial<SignalingServerOptions> = {}) {
  const rec = new Recorder();
  const server = new SignalingServer({ secret: SECRET, handlers: rec.handlers, logger: rec.logger, ...over });
  servers.push(server);
  const { port } = await server.listen(0, "127.0.0.1");
  const base = `http://127.0.0.1:${port}`;
  const connect = async (opts: { autoPong?: boolean } = {}) => {
    const c = await Client.open(`ws://127.0.0.1:${port}/ws`, opts);
    clients.push(c);
    return c;
  };
  const token = async (room: string, identity: string) => {
    const res = await fetch(`${base}/api/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ room, identity }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };
  const joined = async (room: string, identity: string) => {
    const c = await connect();
    c.send({ type: "join", token: await token(room, identity) });
    expect(await c.next()).toMatchObject({ type: "joined", room, identity });
    return c;
  };
  return { server, rec, base, connect, token, joined };
}

describe("SignalingServer", () => {
  it("join, token fetched over HTTP, joined then chat reaches onChat", async () => {
    const { rec, connect, token } = await start();
    const c = await connect();
    c.send({ type: "join", token: await token("lab", "alice"), requestId: "r1" });
    const joined = await c.next();
    expect(joined).toMatchObject({ type: "joined", room: "lab", identity: "alice", iceServers: [], aiPeer: { identity: "assistant" } });
    await rec.wait("onJoin", "alice");
    c.send({ type: "chat", text: "what does the sign say?", id: "q1" });
    expect((await rec.wait("onChat", "alice")).args).toEqual(["what does the sign say?", "q1"]);
  });

  it("send, malformed JSON / unknown type / wrong field, error naming each and the socket stays usable", async () => {
    const { rec, joined } = await start();
    const c = await joined("lab", "alice");
    c.send("{not json");
    expect(await c.next()).toMatchObject({ type: "error", code: "BAD_JSON", message: expect.stringContaining("not valid JSON") });
    c.send({ type: "dance" });
    expect(await c.next()).toMatchObject({ type: "error", code: "BAD_MESSAGE", field: "type", message: expect.stringContaining('"dance"') });
    c.send({ type: "offer", sdp: 7 });
    expect(await c.next()).toMatchObject({ type: "error", code: "BAD_MESSAGE", field: "sdp", message: 'field "sdp": expected string, got number' });
    c.send({ type: "ping", t: 5 });
    expect(await c.next()).toEqual({ type: "pong", t: 5 });
    c.send({ type: "chat", text: "still here" });
    expect((await rec.wait("onChat", "alice")).args[0]).toBe("still here");
  });

  it("send offer, before join, NOT_JOINED", async () => {
    const { connect } = await start();
    const c = await connect();
    c.send({ type: "offer", sdp: "v=0" });
    expect(await c.next()).toMatchObject({ type: "error", code: "NOT_JOINED" });
  });

  it.each([
    ["expired", () => createToken(SECRET, { room: "lab", identity: "a", ttlSec: 60 }, 1_000_000_000_000), "TOKEN_EXPIRED"],
    ["forged", () => createToken("another-secret-that-is-32-bytes-long", { room: "lab", identity: "a", ttlSec: 60 }, Date.now()), "TOKEN_BAD_SIGNATURE"],
    ["malformed", () => "garbage", "TOKEN_MALFORMED"],
  ])("join, %s token, error with the token code then close 4001", async (_what, make, code) => {
    const { connect, rec } = await start();
    const c = await connect();
    c.send({ type: "join", token: make(), requestId: "j1" });
    expect(await c.next()).toMatchObject({ type: "error", code, field: "token", requestId: "j1" });
    expect(await guard(c.closed, "close")).toEqual({ code: 4001, reason: code });
    expect(rec.events).toEqual([]);
  });

  it("send, above maxMessageBytes, TOO_LARGE and open; above maxFrameBytes, closed with 1009", async () => {
    const { rec, joined } = await start({ maxMessageBytes: 1024, maxFrameBytes: 4096 });
    const c = await joined("lab", "alice");
    c.send({ type: "offer", sdp: "a".repeat(2000) });
    expect(await c.next()).toMatchObject({ type: "error", code: "TOO_LARGE", message: expect.stringContaining("1024 bytes") });
    c.send({ type: "chat", text: "small" });
    await rec.wait("onChat", "alice");
    c.send({ type: "offer", sdp: "a".repeat(5000) });
    expect((await guard(c.closed, "close")).code).toBe(1009); // RFC 6455 §7.4.1 "message too big"
    expect((await rec.wait("onLeave", "alice")).args).toEqual(["disconnected"]);
  });

  it("onChat, handler throws, error INTERNAL and the connection lives on", async () => {
    const { rec, joined } = await start();
    rec.overrides.onChat = (_p: PeerHandle, text: string) => {
      if (text === "explode") throw new Error("handler bug");
    };
    const c = await joined("lab", "alice");
    c.send({ type: "chat", text: "explode" });
    expect(await c.next()).toMatchObject({ type: "error", code: "INTERNAL" });
    expect(rec.logged).toContainEqual(expect.objectContaining({ level: "error", event: "signaling.handler_failed" }));
    c.send({ type: "chat", text: "fine" });
    await rec.wait("onChat", "alice", (e) => e.args[0] === "fine");
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("onJoin, handler sends an offer through the peer handle, client receives it after joined", async () => {
    const { rec, connect, token } = await start();
    rec.overrides.onJoin = (p: PeerHandle) => void p.send({ type: "offer", sdp: `v=0 for ${p.identity}` });
    const c = await connect();
    c.send({ type: "join", token: await token("lab", "alice") });
    expect((await c.next()).type).toBe("joined");
    expect(await c.next()).toEqual({ type: "offer", sdp: "v=0 for alice" });
  });

  it("leave, two clients in one room, onLeave for the leaver only and its identity is free again", async () => {
    const { server, rec, joined } = await start();
    const a = await joined("lab", "alice");
    const b = await joined("lab", "bob");
    expect(server.rooms.participants("lab").map((p) => p.identity)).toEqual(["alice", "bob"]);
    a.send({ type: "leave" });
    expect(await a.next()).toEqual({ type: "left" });
    expect((await guard(a.closed, "close")).code).toBe(1000);
    expect((await rec.wait("onLeave", "alice")).args).toEqual(["left"]);
    expect(rec.events.filter((e) => e.name === "onLeave").map((e) => e.identity)).toEqual(["alice"]);
    expect(server.rooms.participants("lab").map((p) => p.identity)).toEqual(["bob"]);
    b.ws.close();
    expect((await rec.wait("onLeave", "bob")).args).toEqual(["disconnected"]);
  });

  it("join, identity already in the room, IDENTITY_IN_USE and the socket stays open", async () => {
    const { joined, connect, token } = await start();
    await joined("lab", "alice");
    const c = await connect();
    c.send({ type: "join", token: await token("lab", "alice") });
    expect(await c.next()).toMatchObject({ type: "error", code: "IDENTITY_IN_USE" });
    c.send({ type: "join", token: await token("lab", "alice-2") });
    expect(await c.next()).toMatchObject({ type: "joined", identity: "alice-2" });
  });

  it("heartbeat, client that stops answering pings, dropped with onLeave heartbeat-timeout; answering client stays", async () => {
    const { rec, connect, token } = await start({ heartbeatIntervalMs: 50 });
    const mute = await connect({ autoPong: false });
    mute.send({ type: "join", token: await token("lab", "mute") });
    const live = await connect();
    live.send({ type: "join", token: await token("lab", "live") });
    expect((await rec.wait("onLeave", "mute")).args).toEqual(["heartbeat-timeout"]);
    expect((await guard(mute.closed, "close")).code).toBe(1006); // terminated, no closing handshake
    await live.waitPings(live.pings + 3);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    expect(rec.events.some((e) => e.name === "onLeave" && e.identity === "live")).toBe(false);
  });

  it("close, clients connected, closes them with 1001, calls onLeave, resolves with nothing left open", async () => {
    const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;
    const before = tcpHandles();
    const { server, rec, joined, connect } = await start();
    const a = await joined("lab", "alice");
    const idle = await connect();
    expect(server.connectionCount).toBe(2);
    await server.close();
    expect((await a.closed).code).toBe(1001);
    expect((await idle.closed).code).toBe(1001);
    expect((await rec.wait("onLeave", "alice")).args).toEqual(["server-shutdown"]);
    expect(server.connectionCount).toBe(0);
    expect(server.http.listening).toBe(false);
    expect(server.rooms.participantCount).toBe(0);
    // The client sides close on the server's FIN; give the loop a turn to collect them.
    await new Promise((r) => setImmediate(r));
    expect(tcpHandles(), "TCP handles left open after close()").toBe(before);
  });

  it("upgrade, path other than /ws, refused with 404", async () => {
    const { base } = await start();
    const ws = new WebSocket(`${base.replace("http", "ws")}/other`);
    ws.on("error", () => {}); // terminate() below aborts the handshake, which ws reports as an error
    const status = await guard(new Promise<number>((resolve) => ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0))), "refusal");
    ws.terminate();
    expect(status).toBe(404);
  });
});

describe("SignalingServer HTTP routes", () => {
  const post = (base: string, body: string, type = "application/json") =>
    fetch(`${base}/api/token`, { method: "POST", headers: { "content-type": type }, body });

  it("POST /api/token, invalid identity, 400 naming the field", async () => {
    const { base } = await start();
    const res = await post(base, JSON.stringify({ room: "lab", identity: "bad id" }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "BAD_MESSAGE", field: "identity" } });
  });

  it("POST /api/token, body over the limit, 413; not JSON, 415", async () => {
    const { base } = await start({ maxHttpBodyBytes: 64 });
    expect((await post(base, JSON.stringify({ room: "lab", identity: "x".repeat(100) }))).status).toBe(413);
    expect((await post(base, "room=lab", "application/x-www-form-urlencoded")).status).toBe(415);
  });

  it("POST /api/token, issueTokens off, 404", async () => {
    const { base } = await start({ issueTokens: false });
    expect((await post(base, JSON.stringify({ room: "lab", identity: "a" }))).status).toBe(404);
  });

  it("GET /healthz, one peer joined, reports rooms and peers", async () => {
    const { base, joined } = await start();
    await joined("lab", "alice");
    const res = await fetch(`${base}/healthz`);
    expect(await res.json()).toEqual({ ok: true, rooms: 1, peers: 1 });
  });
});
