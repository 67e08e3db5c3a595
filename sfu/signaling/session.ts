/**
 * One signalling connection as a state machine over a transport (the WebSocket in production, an
 * array in unit tests):
 *
 *   awaiting-join --join ok--> joined --leave | socket closed | shutdown--> closed
 *   awaiting-join --bad token--> closed (error sent, then close code 4001)
 *   awaiting-join --socket closed--> closed
 *
 * Invalid frames get an `error` naming the problem and change nothing. No Node imports and no
 * clock: token checking arrives as a function.
 */
import { parseClientMessage, type ClientMessage, type IceServer, type ServerErrorCode, type ServerMessage } from "../protocol/messages.ts";
import type { RoomRegistry } from "./rooms.ts";
import type { TokenResult } from "./tokens.ts";
import type { LeaveReason, Logger, PeerHandle, SignalingHandlers } from "./types.ts";

/**
 * RFC 6455 §7.4.2: codes 4000-4999 are for applications. 4001 = the join's token was refused
 * (malformed, bad signature or expired); the client should fetch a new token, not retry as is.
 */
export const CLOSE_TOKEN_REFUSED = 4001;
/** RFC 6455 §7.4.1: normal closure, used after `leave`. */
export const CLOSE_NORMAL = 1000;

export interface SessionTransport {
  readonly open: boolean;
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface SessionDeps {
  readonly transport: SessionTransport;
  readonly registry: RoomRegistry;
  readonly verifyToken: (token: string) => TokenResult;
  readonly handlers: SignalingHandlers;
  readonly logger: Logger;
  readonly newId: () => string;
  readonly aiIdentity: string;
  readonly iceServers: readonly IceServer[];
  readonly maxMessageBytes: number;
}

export type SessionState =
  | { readonly kind: "awaiting-join" }
  | { readonly kind: "joined"; readonly peer: PeerHandle }
  | { readonly kind: "closed" };

export class SignalingSession {
  readonly peerId: string;
  private current: SessionState = { kind: "awaiting-join" };
  /** Handler calls of this peer, chained so they run one at a time in arrival order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SessionDeps) {
    this.peerId = deps.newId();
  }

  get state(): SessionState {
    return this.current;
  }

  /** One frame from the client. Never throws. */
  receive(raw: string | Uint8Array): void {
    if (this.current.kind === "closed") return;
    const parsed = parseClientMessage(raw, this.deps.maxMessageBytes);
    if (!parsed.ok) {
      const { code, message, field } = parsed.error;
      this.deps.logger.warn("signaling.bad_message", { peerId: this.peerId, code, field, message });
      this.sendError(code, message, field);
      return;
    }
    const msg = parsed.msg;
    if (msg.type === "ping") {
      this.send({ type: "pong", t: msg.t });
    } else if (this.current.kind === "awaiting-join") {
      if (msg.type === "join") this.join(msg.token, msg.requestId);
      else this.sendError("NOT_JOINED", `"${msg.type}" needs a join first: send {"type":"join","token":"..."}`);
    } else {
      this.dispatch(this.current.peer, msg);
    }
  }

  /** The transport closed or is being closed: leave the room and tell the media layer, once. */
  end(reason: LeaveReason): void {
    const s = this.current;
    this.current = { kind: "closed" };
    if (s.kind !== "joined") return;
    this.deps.registry.leave(s.peer.peerId);
    this.deps.logger.info("signaling.left", { room: s.peer.room, peerId: s.peer.peerId, identity: s.peer.identity, reason });
    this.call("onLeave", s.peer, (h) => h.onLeave(s.peer, reason));
  }

  /** Resolves when every handler call queued so far has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  private join(token: string, requestId: string | undefined): void {
    const verdict = this.deps.verifyToken(token);
    if (!verdict.ok) {
      this.deps.logger.warn("signaling.token_refused", { peerId: this.peerId, code: verdict.code });
      this.sendError(verdict.code, verdict.message, "token", requestId);
      this.current = { kind: "closed" };
      this.deps.transport.close(CLOSE_TOKEN_REFUSED, verdict.code);
      return;
    }
    const { room, identity } = verdict.claims;
    const joined = this.deps.registry.join(room, { peerId: this.peerId, identity });
    if (!joined.ok) {
      // The socket stays open: the client may join again with another token.
      const code: ServerErrorCode = joined.code === "PEER_ALREADY_JOINED" ? "ALREADY_JOINED" : joined.code;
      this.sendError(code, joined.message, undefined, requestId);
      return;
    }
    const peer = this.makePeer(room, identity);
    this.current = { kind: "joined", peer };
    this.deps.logger.info("signaling.joined", { room, peerId: this.peerId, identity, participants: joined.participants.length });
    this.send({
      type: "joined",
      room,
      identity,
      peerId: this.peerId,
      iceServers: [...this.deps.iceServers],
      aiPeer: { identity: this.deps.aiIdentity },
    });
    this.call("onJoin", peer, (h) => h.onJoin(peer));
  }

  private dispatch(peer: PeerHandle, msg: Exclude<ClientMessage, { type: "ping" }>): void {
    switch (msg.type) {
      case "join":
        this.sendError("ALREADY_JOINED", `already joined room "${peer.room}" as "${peer.identity}"; leave first`, undefined, msg.requestId);
        return;
      case "offer":
        return this.call("onOffer", peer, (h) => h.onOffer(peer, msg.sdp));
      case "answer":
        return this.call("onAnswer", peer, (h) => h.onAnswer(peer, msg.sdp));
      case "ice":
        return this.call("onIce", peer, (h) => h.onIce(peer, msg.candidate));
      case "chat": {
        const id = msg.id ?? this.deps.newId();
        return this.call("onChat", peer, (h) => h.onChat(peer, msg.text, id));
      }
      case "answer-frame-request":
        return this.call("onAnswerFrameRequest", peer, (h) => h.onAnswerFrameRequest?.(peer, msg.questionId));
      case "leave":
        this.send({ type: "left" });
        this.end("left");
        this.deps.transport.close(CLOSE_NORMAL, "left");
        return;
    }
  }

  private makePeer(room: string, identity: string): PeerHandle {
    const peerId = this.peerId;
    const send = (msg: ServerMessage): boolean => this.send(msg);
    return { peerId, room, identity, send };
  }

  /**
   * Queues one handler call. Whatever it throws is caught here (mediasoup's `safeEmit` idea): a
   * listener's bug costs that peer an `error INTERNAL`, never the connection or the server.
   */
  private call(name: keyof SignalingHandlers, peer: PeerHandle, fn: (h: SignalingHandlers) => void | Promise<void>): void {
    this.queue = this.queue.then(async () => {
      try {
        await fn(this.deps.handlers);
      } catch (err) {
        this.deps.logger.error("signaling.handler_failed", {
          handler: name,
          room: peer.room,
          peerId: peer.peerId,
          identity: peer.identity,
          error: err instanceof Error ? err.message : String(err),
          stack: err instanceof Error ? err.stack : undefined,
        });
        this.sendError("INTERNAL", `the server failed while handling ${name}; the connection is still usable`);
      }
    });
  }

  private send(msg: ServerMessage): boolean {
    if (!this.deps.transport.open) return false;
    try {
      this.deps.transport.send(JSON.stringify(msg));
      return true;
    } catch (err) {
      this.deps.logger.warn("signaling.send_failed", { peerId: this.peerId, type: msg.type, error: String(err) });
      return false;
    }
  }

  private sendError(code: ServerErrorCode, message: string, field?: string, requestId?: string): void {
    this.send({
      type: "error",
      code,
      message,
      ...(field !== undefined ? { field } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
    });
  }
}
