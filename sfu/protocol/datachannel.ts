/**
 * Messages on the WebRTC data channel between the call server (the AI peer) and the publisher:
 * the server steers the encoder (region map, bitrate and frame-rate caps), the publisher asks
 * questions and reports sender metrics, the server streams answers back. One JSON object per
 * data-channel message (RFC 8831), discriminated by `type`.
 *
 * Pure: no Node imports (the browser client imports it).
 */
import * as z from "zod";
import { parseTyped, type ParseResult } from "./parse.ts";
import { agentStateSchema, MAX_CHAT_CHARS, type AgentStateMessage } from "./messages.ts";

export { AGENT_STATES, agentStateSchema, type AgentState, type AgentStateMessage } from "./messages.ts";

/** SCTP user messages above 16 KiB are not portable across browsers (RFC 8831 §6.6). */
export const DEFAULT_MAX_DATA_CHANNEL_BYTES = 16 * 1024;
/** Largest picture side a region map may describe. */
export const MAX_MAP_SIDE_PX = 8192;

const nonNegInt = z.number().int().min(0);
const id = z.string().min(1).max(128);

/**
 * Per-block importance for the publisher's ROI pre-filter and encoder: `weights` is row-major,
 * one entry per `blockSize`-pixel block (partial blocks at the right and bottom edges count), 1 =
 * keep sharp, 0 = spend nothing. `version` increases with every map; the publisher ignores the map
 * after `validUntilMs` (server clock, ms since epoch) and falls back to uniform quality.
 */
export const regionMapSchema = z
  .object({
    type: z.literal("region-map"),
    version: nonNegInt,
    validUntilMs: z.number().finite().min(0),
    width: z.number().int().min(1).max(MAX_MAP_SIDE_PX),
    height: z.number().int().min(1).max(MAX_MAP_SIDE_PX),
    blockSize: z.number().int().min(1).max(1024),
    weights: z.array(z.number().min(0).max(1)),
  })
  .superRefine((m, ctx) => {
    const expected = regionMapBlockCount(m.width, m.height, m.blockSize);
    if (m.weights.length !== expected) {
      ctx.addIssue({
        code: "custom",
        path: ["weights"],
        message: `expected ${expected} weights (${Math.ceil(m.width / m.blockSize)}x${Math.ceil(m.height / m.blockSize)} blocks), got ${m.weights.length}`,
      });
    }
  });

/** Publisher -> server: whether map `version` was applied, and why not (e.g. "stale", "size-mismatch"). */
export const regionMapAckSchema = z.object({
  type: z.literal("region-map-ack"),
  version: nonNegInt,
  applied: z.boolean(),
  reason: z.string().max(200).optional(),
});

/** Server -> publisher: sender caps following what the MLLM consumes (1-2 fps is typical). */
export const rateTargetSchema = z.object({
  type: z.literal("rate-target"),
  maxBitrateBps: z.number().int().min(1),
  maxFramerate: z.number().positive().max(120),
});

/**
 * Server -> publisher: vision on demand. `idle: true`: no question is open, send at most
 * `idleFramerate` frames a second, the encoder otherwise unchanged (same bitrate and settings, no
 * restart: each frame keeps the bits it had, the stream stays a keep-alive the AI can still look
 * at); `idle: false`: back to the full frame rate at once, continuing the same stream.
 */
export const visionSchema = z.object({
  type: z.literal("vision"),
  idle: z.boolean(),
  idleFramerate: z.number().positive().max(30),
});

/** Publisher -> server: a question about the picture. */
export const questionSchema = z.object({
  type: z.literal("question"),
  id,
  text: z.string().min(1).max(MAX_CHAT_CHARS),
});

/**
 * Server -> publisher: a chunk of the answer to question `id` (the id the question was asked with:
 * each answer names its question); `final` on the last chunk.
 */
export const answerChunkSchema = z.object({
  type: z.literal("answer-chunk"),
  id,
  text: z.string(),
  final: z.boolean(),
});

/**
 * Either direction: a snapshot of figures, units in the names. The publisher reports what it
 * sends; the server reports what it received and how long answers took. All but the timestamp are
 * optional: each side fills what it measures.
 */
export const metricsSchema = z.object({
  type: z.literal("metrics"),
  timestampMs: z.number().finite().min(0),
  bitrateBps: z.number().finite().min(0).optional(),
  framerate: z.number().finite().min(0).optional(),
  frameWidth: nonNegInt.optional(),
  frameHeight: nonNegInt.optional(),
  rttMs: z.number().finite().min(0).optional(),
  packetLossRatio: z.number().min(0).max(1).optional(),
  framesDecoded: nonNegInt.optional(),
  framesSubstituted: nonNegInt.optional(),
  answerLatencyMs: z.number().finite().min(0).optional(),
  /**
   * The sender sends every frame as a keyframe (the headless publisher's mode on a lossy link when
   * nothing repairs loss: no NACK, no FEC; sfu/publisher/loss-resilience.ts). The server's
   * frame-rate target then budgets intra frames (sfu/media/frame-rate-target.ts `intraOnly`).
   */
  intraOnly: z.boolean().optional(),
});

export type RegionMapMessage = z.infer<typeof regionMapSchema>;
export type RegionMapAckMessage = z.infer<typeof regionMapAckSchema>;
export type RateTargetMessage = z.infer<typeof rateTargetSchema>;
export type VisionMessage = z.infer<typeof visionSchema>;
export type QuestionMessage = z.infer<typeof questionSchema>;
export type AnswerChunkMessage = z.infer<typeof answerChunkSchema>;
export type MetricsMessage = z.infer<typeof metricsSchema>;

export type DataChannelMessage =
  | RegionMapMessage
  | RegionMapAckMessage
  | RateTargetMessage
  | VisionMessage
  | QuestionMessage
  | AnswerChunkMessage
  | MetricsMessage
  | AgentStateMessage;
/** What the server sends to the publisher. */
export type ToPublisherMessage = RegionMapMessage | RateTargetMessage | VisionMessage | AnswerChunkMessage | MetricsMessage | AgentStateMessage;
/** What the publisher sends to the server. */
export type FromPublisherMessage = RegionMapAckMessage | QuestionMessage | MetricsMessage;

const schemas: { readonly [K in DataChannelMessage["type"]]: z.ZodType<Extract<DataChannelMessage, { type: K }>> } = {
  "region-map": regionMapSchema,
  "region-map-ack": regionMapAckSchema,
  "rate-target": rateTargetSchema,
  vision: visionSchema,
  question: questionSchema,
  "answer-chunk": answerChunkSchema,
  metrics: metricsSchema,
  "agent-state": agentStateSchema,
};

export const dataChannelMessageSchema = z.discriminatedUnion("type", [
  regionMapSchema,
  regionMapAckSchema,
  rateTargetSchema,
  visionSchema,
  questionSchema,
  answerChunkSchema,
  metricsSchema,
  agentStateSchema,
]);

/** Blocks in a region map: partial blocks at the edges count as whole ones. */
export function regionMapBlockCount(width: number, height: number, blockSize: number): number {
  return Math.ceil(width / blockSize) * Math.ceil(height / blockSize);
}

/** Parses one data-channel message; checks the size before decoding or JSON.parse. */
export function parseDataChannelMessage(
  raw: string | Uint8Array,
  maxBytes: number = DEFAULT_MAX_DATA_CHANNEL_BYTES,
): ParseResult<DataChannelMessage> {
  return parseTyped<DataChannelMessage>(schemas, raw, maxBytes);
}
