/**
 * The signalling layer's ports: what the media layer injects (`SignalingHandlers`), what it gets
 * per peer (`PeerHandle`) and the structured logger. Mirrors mediasoup's `XTypes.ts` split: the
 * interfaces live apart from the classes that implement them.
 */
import type { IceCandidate, ServerMessage } from "../protocol/messages.ts";

/** Structured log sink: `event` is a stable dotted name, `fields` carry context (room, peerId, ...). */
export interface Logger {
  info(event: string, fields: object): void;
  warn(event: string, fields: object): void;
  error(event: string, fields: object): void;
}

/** Library code does not print; entry points pass a real logger. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** One joined participant as the media layer sees it. */
export interface PeerHandle {
  /** Server-assigned, unique per connection. */
  readonly peerId: string;
  readonly room: string;
  readonly identity: string;
  /** Sends a message to this peer; false when its socket is no longer open (the message is dropped). */
  send(msg: ServerMessage): boolean;
}

/**
 * Why a peer left: it said `leave`; its socket closed; it stopped answering WebSocket pings; or
 * the server is shutting down.
 */
export type LeaveReason = "left" | "disconnected" | "heartbeat-timeout" | "server-shutdown";

/**
 * Events for the media layer. Calls for one peer run one at a time, in arrival order (the next
 * waits for a returned promise), so `onIce` never overtakes the `onOffer` whose remote description
 * it needs; different peers do not wait for each other. A throwing or rejecting handler is logged
 * and answered with `error INTERNAL` to that peer; the connection and the server go on.
 */
export interface SignalingHandlers {
  /** After `joined` was sent; the media layer typically creates the peer connection here. */
  onJoin(peer: PeerHandle): void | Promise<void>;
  onOffer(peer: PeerHandle, sdp: string): void | Promise<void>;
  onAnswer(peer: PeerHandle, sdp: string): void | Promise<void>;
  /** `null` is end-of-candidates. */
  onIce(peer: PeerHandle, candidate: IceCandidate | null): void | Promise<void>;
  /** `id` is the client's id for the question, or a server-assigned one. */
  onChat(peer: PeerHandle, text: string, id: string): void | Promise<void>;
  /** The peer asks for the frame an answer used (optional: a server without pictures ignores it). */
  onAnswerFrameRequest?(peer: PeerHandle, questionId: string): void | Promise<void>;
  /** Called once per joined peer, whatever ended it; `send` no longer reaches it. */
  onLeave(peer: PeerHandle, reason: LeaveReason): void | Promise<void>;
}
