/**
 * Signalling messages between a call client (browser or headless publisher) and the call server,
 * one JSON object per WebSocket text frame (RFC 6455 §5.6), discriminated by `type`.
 *
 * Pure: no Node imports. The browser client imports this file to build and check messages.
 *
 * Flow: client `join` (token) -> server `joined`; then SDP `offer`/`answer` and trickled `ice` in
 * either direction; client `chat` questions, server `chat` answers streamed as chunks that share an
 * `id` (the last has `final: true`); `leave` -> `left`. `ping`/`pong` is an application-level RTT
 * probe; liveness is the WebSocket's own ping/pong control frames (RFC 6455 §5.5.2-5.5.3).
 */
import * as z from "zod";
import { parseTyped, type ParseResult } from "./parse.ts";

export type { ParseError, ParseErrorCode, ParseResult } from "./parse.ts";

/** Room names and identities: 1..64 characters of [A-Za-z0-9_.-], safe in logs, URLs and tokens. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const identifierSchema = z.string().regex(IDENTIFIER_PATTERN);

export const MAX_CHAT_CHARS = 4000;
/** Default per-message limit of the signalling socket (an SDP offer with simulcast is ~10 KiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

const sdp = z.string().min(1);
const messageId = z.string().min(1).max(128);

/** RTCIceCandidateInit as browsers serialise it (`sdpMid`/`sdpMLineIndex` may be null). */
export const iceCandidateSchema = z.object({
  candidate: z.string(),
  sdpMid: z.string().nullish(),
  sdpMLineIndex: z.number().int().min(0).nullish(),
  usernameFragment: z.string().nullish(),
});
export type IceCandidate = z.infer<typeof iceCandidateSchema>;

/** RTCIceServer as the browser's RTCPeerConnection takes it. */
export const iceServerSchema = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof iceServerSchema>;

// --- client -> server -------------------------------------------------------------------------

export const joinSchema = z.object({
  type: z.literal("join"),
  token: z.string().min(1).max(2048),
  /** Echoed in an `error` about this join, so a client can match the reply. */
  requestId: z.string().min(1).max(128).optional(),
});
export const offerSchema = z.object({ type: z.literal("offer"), sdp });
export const answerSchema = z.object({ type: z.literal("answer"), sdp });
/** `candidate: null` is the end-of-candidates signal. */
export const iceSchema = z.object({ type: z.literal("ice"), candidate: iceCandidateSchema.nullable() });
export const clientChatSchema = z.object({
  type: z.literal("chat"),
  text: z.string().min(1).max(MAX_CHAT_CHARS),
  /** Client-chosen id of the question; the server assigns one when absent. */
  id: messageId.optional(),
});
export const leaveSchema = z.object({ type: z.literal("leave") });
/** Asks for the frame the answer to `questionId` used (one of the last few answers): `answer-frame`. */
export const answerFrameRequestSchema = z.object({ type: z.literal("answer-frame-request"), questionId: messageId });
/** `t` is the client's own clock reading, echoed in `pong` to measure round-trip time. */
export const pingSchema = z.object({ type: z.literal("ping"), t: z.number().finite() });

export type JoinMessage = z.infer<typeof joinSchema>;
export type OfferMessage = z.infer<typeof offerSchema>;
export type AnswerMessage = z.infer<typeof answerSchema>;
export type IceMessage = z.infer<typeof iceSchema>;
export type ClientChatMessage = z.infer<typeof clientChatSchema>;
export type LeaveMessage = z.infer<typeof leaveSchema>;
export type PingMessage = z.infer<typeof pingSchema>;
export type AnswerFrameRequestMessage = z.infer<typeof answerFrameRequestSchema>;

export type ClientMessage =
  | JoinMessage
  | OfferMessage
  | AnswerMessage
  | IceMessage
  | ClientChatMessage
  | LeaveMessage
  | PingMessage
  | AnswerFrameRequestMessage;

const clientSchemas: { readonly [K in ClientMessage["type"]]: z.ZodType<Extract<ClientMessage, { type: K }>> } = {
  join: joinSchema,
  offer: offerSchema,
  answer: answerSchema,
  ice: iceSchema,
  chat: clientChatSchema,
  leave: leaveSchema,
  ping: pingSchema,
  "answer-frame-request": answerFrameRequestSchema,
};

export const clientMessageSchema = z.discriminatedUnion("type", [
  joinSchema,
  offerSchema,
  answerSchema,
  iceSchema,
  clientChatSchema,
  leaveSchema,
  pingSchema,
  answerFrameRequestSchema,
]);

// --- server -> client -------------------------------------------------------------------------

/** Every code a server `error` may carry. The token codes match `sfu/signaling/tokens.ts`. */
export const SERVER_ERROR_CODES = [
  "TOO_LARGE",
  "BAD_JSON",
  "BAD_MESSAGE",
  "NOT_JOINED",
  "ALREADY_JOINED",
  "TOKEN_MALFORMED",
  "TOKEN_BAD_SIGNATURE",
  "TOKEN_EXPIRED",
  "ROOM_FULL",
  "IDENTITY_IN_USE",
  "NOT_FOUND",
  "INTERNAL",
] as const;
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

export const joinedSchema = z.object({
  type: z.literal("joined"),
  room: identifierSchema,
  identity: identifierSchema,
  peerId: z.string().min(1),
  iceServers: z.array(iceServerSchema),
  aiPeer: z.object({ identity: identifierSchema }),
});
export const serverChatSchema = z.object({
  type: z.literal("chat"),
  /** Identity of the author (the AI peer's identity for answers). */
  from: z.string().min(1),
  text: z.string(),
  /** Chunks of one streamed answer share the id. */
  id: messageId,
  final: z.boolean(),
});
export const errorSchema = z.object({
  type: z.literal("error"),
  code: z.enum(SERVER_ERROR_CODES),
  message: z.string(),
  field: z.string().optional(),
  requestId: z.string().optional(),
});
/**
 * What the AI peer is doing, in the order it happens (`seq` increases by one per change):
 * "joining" (no video yet), "watching" (video coming, no question), "looking" (a region map was
 * sent for question `questionId` and it waits for sharper frames), "answering" (the model works
 * on `questionId`), "idle" (the video stopped).
 */
export const AGENT_STATES = ["joining", "watching", "looking", "answering", "idle"] as const;
export type AgentState = (typeof AGENT_STATES)[number];
export const agentStateSchema = z.object({
  type: z.literal("agent-state"),
  state: z.enum(AGENT_STATES),
  seq: z.number().int().min(0),
  questionId: messageId.optional(),
});
export type AgentStateMessage = z.infer<typeof agentStateSchema>;

/**
 * The frame an answer was read from, for the asker to see (the reply to `answer-frame-request`;
 * `error NOT_FOUND` with the question's id as `requestId` when the answer is not among the last
 * ones kept): a small JPEG (base64, longest side a
 * few hundred pixels) with the region the answer came from drawn on it, when the model said
 * where; when it was captured (publisher clock), how old it was when answered, the resolution it
 * was decoded at and the bitrate the server was receiving.
 */
export const answerFrameSchema = z.object({
  type: z.literal("answer-frame"),
  questionId: messageId,
  jpegBase64: z.string(),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
  captureMs: z.number().finite(),
  /** How long the frame had been at the server (decoded) when the answer was given (server clock). */
  ageMs: z.number().finite(),
  frameWidth: z.number().int().min(1),
  frameHeight: z.number().int().min(1),
  receivedBitrateBps: z.number().finite().min(0).nullable(),
  box: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }).nullable(),
});
export const leftSchema = z.object({ type: z.literal("left") });
export const pongSchema = z.object({ type: z.literal("pong"), t: z.number().finite() });

export type JoinedMessage = z.infer<typeof joinedSchema>;
export type ServerChatMessage = z.infer<typeof serverChatSchema>;
export type ErrorMessage = z.infer<typeof errorSchema>;
export type LeftMessage = z.infer<typeof leftSchema>;
export type AnswerFrameMessage = z.infer<typeof answerFrameSchema>;
export type PongMessage = z.infer<typeof pongSchema>;

export type ServerMessage =
  | JoinedMessage
  | OfferMessage
  | AnswerMessage
  | IceMessage
  | ServerChatMessage
  | ErrorMessage
  | LeftMessage
  | PongMessage
  | AnswerFrameMessage
  | AgentStateMessage;

const serverSchemas: { readonly [K in ServerMessage["type"]]: z.ZodType<Extract<ServerMessage, { type: K }>> } = {
  joined: joinedSchema,
  offer: offerSchema,
  answer: answerSchema,
  ice: iceSchema,
  chat: serverChatSchema,
  error: errorSchema,
  left: leftSchema,
  pong: pongSchema,
  "answer-frame": answerFrameSchema,
  "agent-state": agentStateSchema,
};

export const serverMessageSchema = z.discriminatedUnion("type", [
  joinedSchema,
  offerSchema,
  answerSchema,
  iceSchema,
  serverChatSchema,
  errorSchema,
  leftSchema,
  pongSchema,
  answerFrameSchema,
  agentStateSchema,
]);

/** Parses one client->server frame; checks the size before decoding or JSON.parse. */
export function parseClientMessage(raw: string | Uint8Array, maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES): ParseResult<ClientMessage> {
  return parseTyped<ClientMessage>(clientSchemas, raw, maxBytes);
}

/** Parses one server->client frame (the browser client's side of the same contract). */
export function parseServerMessage(raw: string | Uint8Array, maxBytes: number = 4 * DEFAULT_MAX_MESSAGE_BYTES): ParseResult<ServerMessage> {
  return parseTyped<ServerMessage>(serverSchemas, raw, maxBytes);
}
